// Local mode's promotion, with real processes: production moves to the canary's version one
// instance at a time without ever serving below its desired count, then the canary is drained the
// way destroying the canary stack drains it.
import * as http from "node:http";
import * as path from "node:path";
import { LocalFleet } from "../../../adapters/fleet/local";
import type { ConfigInvocation, Handler, SnsEvent } from "../../../lambda/handler";
import { ActivityFeed } from "../../../local/activity";
import { Supervisor } from "../../../local/processes";
import { localPromotion, ProdVersion } from "../../../local/promotion";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

// A stand-in instance: answers its version on every path (the sample app's bundle is not needed here).
const SERVER = `require("node:http").createServer((q, s) => s.end(process.env.V)).listen(Number(process.env.PORT), "127.0.0.1")`;

function answer(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", timeout: 1000 }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}

const log = testLogger("aviary-promotion-");
const supervisor = new Supervisor(path.join(tempDir("aviary-promotion-"), "logs"), log);
afterAll(() => supervisor.stopAll());

function fleetOf(version: ProdVersion, failAfter?: number): LocalFleet {
  let launched = 0;
  return new LocalFleet({
    min: 1,
    max: 3,
    launch: (id, port) => supervisor.spawn(id, process.execPath, ["-e", failAfter !== undefined && ++launched > failAfter ? "process.exit(3)" : SERVER], { env: { ...process.env, PORT: String(port), V: version.current() } }),
    ready: (id, port) => until(`${id} answers`, async () => (await answer(port)) !== undefined, 10_000),
  });
}

function recordingController(): { controller: () => Handler; received: (SnsEvent | ConfigInvocation)[] } {
  const received: (SnsEvent | ConfigInvocation)[] = [];
  return { received, controller: () => async (event) => (received.push(event), { processed: 1, skipped: 0, outcomes: [] }) };
}

test("production takes the canary's version with its desired count serving throughout, then the canary drains to 0", async () => {
  const version = new ProdVersion("1.4.2");
  const fleet = fleetOf(version);
  await fleet.setDesired(2);
  const activity = new ActivityFeed();
  const { controller, received } = recordingController();
  const promote = localPromotion({ version, fleet, controller, activity, log });

  // Watch the fleet while it is replaced: how many instances answer, and with which version.
  let watching = true;
  let fewestServing = Number.POSITIVE_INFINITY;
  const seen = new Set<string>();
  const watch = (async () => {
    while (watching) {
      const answers = await Promise.all([...fleet.ports().values()].map(answer));
      const serving = answers.filter((a) => a !== undefined);
      fewestServing = Math.min(fewestServing, serving.length);
      for (const a of serving) seen.add(a as string);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const before = (await fleet.describe()).instances.map((i) => i.id);
  await promote("1.5.0-rc.1", "1.5.0-rc.1@2026-12-01T17:00:00.000Z");
  await until("the drain invocation", async () => received.length === 1, 30_000);
  watching = false;
  await watch;

  const after = await fleet.describe();
  expect(after.desired).toBe(2);
  expect(after.instances.map((i) => i.id).filter((id) => before.includes(id))).toEqual([]);
  expect(await Promise.all([...fleet.ports().values()].map(answer))).toEqual(["1.5.0-rc.1", "1.5.0-rc.1"]);
  expect(version.current()).toBe("1.5.0-rc.1");
  expect(fewestServing).toBeGreaterThanOrEqual(2);
  expect(seen).toEqual(new Set(["1.4.2", "1.5.0-rc.1"]));
  expect(received).toEqual([{ action: "setCanaryWeight", weight: 0, appVersion: "1.5.0-rc.1", tf: { action: "delete" } }]);
  expect(activity.recent().map((a) => a.title)).toEqual(expect.arrayContaining(["promoting 1.5.0-rc.1 to production (was 1.4.2)", "production runs 1.5.0-rc.1"]));
}, 60_000);

test("a promotion whose new instance never comes up says so and leaves the canary serving", async () => {
  const version = new ProdVersion("1.4.2");
  const fleet = fleetOf(version, 1);
  await fleet.setDesired(1);
  const activity = new ActivityFeed();
  const { controller, received } = recordingController();
  await localPromotion({ version, fleet, controller, activity, log })("1.5.0-rc.1", "r1");
  const failed = () => activity.recent().find((a) => a.title === "promotion of 1.5.0-rc.1 failed");
  await until("the failure in the activity feed", () => failed() !== undefined, 30_000);
  expect(failed()?.text).toMatch(/the fleet may run both versions until it is promoted again/);
  expect(received).toEqual([]);
  fleet.halt();
}, 60_000);
