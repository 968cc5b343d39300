// Local mode's starting flags and segment on a real redis-server: created when absent (the segment
// before the flag that names it, or the flag write would be refused), left alone when present, so a
// developer's changes survive a restart of the stack.
import { ensureFlags, startingFlags, startingSegments } from "../../../local/flags";
import { readFlag, readFlags, updateFlag } from "../../../state/flags";
import { readSegment, readSegments, updateSegment } from "../../../state/segments";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

test("an empty Redis gets every starting segment and flag, the JSON banner flag with its segment rule", async () => {
  await ensureFlags(db.redis, "local-runner");
  expect((await readSegments(db.redis)).segments.map((s) => s.name).sort()).toEqual(startingSegments().map((s) => s.name).sort());
  expect((await readFlags(db.redis)).flags.map((f) => f.key).sort()).toEqual(startingFlags("x").map((f) => f.key).sort());
  const banner = (await readFlag(db.redis, "banner")).flag!;
  expect(banner).toMatchObject({ type: "object", updatedBy: "local-runner", variants: { beta: { text: expect.any(String), color: expect.stringMatching(/^#/) } } });
  expect(banner.rules[0].conditions).toEqual([{ op: "inSegment", segment: "beta-testers" }]);
});

test("a second start keeps what a developer changed in the segment and the flag", async () => {
  await ensureFlags(db.redis, "local-runner");
  await updateSegment(db.redis, "beta-testers", (s) => ({ ...s!, included: ["dev-1"] }), { by: "dev", cause: "set" });
  await updateFlag(db.redis, "banner", (f) => ({ ...f!, defaultVariant: "beta" }), { by: "dev", reason: "try it", cause: "set" });
  await ensureFlags(db.redis, "local-runner");
  expect((await readSegment(db.redis, "beta-testers")).segment).toMatchObject({ included: ["dev-1"], updatedBy: "dev" });
  expect((await readFlag(db.redis, "banner")).flag).toMatchObject({ defaultVariant: "beta", updatedBy: "dev" });
});
