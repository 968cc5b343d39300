// Two listeners of one process must never be given the same port (HAProxy's proxy and stats binds
// once shared one, with SO_REUSEPORT, and a share of requests went to the stats page).
import * as fs from "node:fs";
import * as path from "node:path";
import { ephemeralStart, freePort } from "../../../harness/freePort";
import { tempDir } from "../../support/tempDir";

test("freePort never hands out the same port twice in a process", async () => {
  const ports = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(ports.length);
});

// An outgoing connection takes its local port from the ephemeral range: a listener's port chosen
// there could be taken by a client (e.g. a Redis connection) before the listener binds it.
test("freePort hands out ports below the kernel's ephemeral range", async () => {
  const start = ephemeralStart();
  for (let i = 0; i < 200; i++) expect(await freePort()).toBeLessThan(start);
});

test("ephemeralStart reads the range's first port, and falls back to Linux's default", () => {
  const dir = tempDir("aviary-ports-");
  const file = path.join(dir, "range");
  fs.writeFileSync(file, "40000\t60999\n");
  expect(ephemeralStart(file)).toBe(40000);
  fs.writeFileSync(file, "garbage");
  expect(ephemeralStart(file)).toBe(32768);
  expect(ephemeralStart(path.join(dir, "missing"))).toBe(32768);
});
