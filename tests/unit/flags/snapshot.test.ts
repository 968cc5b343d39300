// The snapshot file: flags and segments round trip; a file written before segments existed still
// loads (no segments); bad entries are reported and skipped, never thrown.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { booleanFlag, storedFlagSchema, storedSegmentSchema } from "../../../core/flags/model";
import { readSnapshot, writeSnapshot } from "../../../flags/snapshot";
import { tempDir } from "../../support/tempDir";

const at = "2026-12-01T10:00:00.000Z";
const flag = storedFlagSchema.parse({ ...booleanFlag("a", "web"), updatedBy: "t", updatedAt: at, version: 1 });
const segment = storedSegmentSchema.parse({ name: "staff", included: ["u1"], updatedBy: "t", updatedAt: at, version: 3 });

test("flags and segments round trip", async () => {
  const file = path.join(tempDir("aviary-snapshot-"), "flags.json");
  await writeSnapshot(file, { flags: [flag], segments: [segment] });
  expect(await readSnapshot(file)).toEqual({ snapshot: { savedAt: expect.any(String), flags: [flag], segments: [segment] }, problems: [] });
});

test.each([
  ["a file from before segments: no segments, no problem", { flags: [flag] }, [], []],
  ["segments not a list", { flags: [flag], segments: "staff" }, [], ["segments is not a list"]],
  ["a garbage segment is skipped", { flags: [flag], segments: [{ name: "x" }, segment] }, [segment], ["segments[0] invalid"]],
])("%s", async (_name, body, segments, problems) => {
  const file = path.join(tempDir("aviary-snapshot-"), "flags.json");
  writeFileSync(file, JSON.stringify({ savedAt: at, ...body }));
  const read = await readSnapshot(file);
  expect(read.snapshot).toEqual({ savedAt: at, flags: [flag], segments });
  expect(read.problems).toEqual(problems.map((p) => expect.stringContaining(p)));
});
