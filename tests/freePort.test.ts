// Two listeners of one process must never be given the same port (HAProxy's proxy and stats binds
// once shared one, with SO_REUSEPORT, and a share of requests went to the stats page).
import { freePort } from "../harness/freePort";

test("freePort never hands out the same port twice in a process", async () => {
  const ports = [];
  for (let i = 0; i < 300; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(ports.length);
});
