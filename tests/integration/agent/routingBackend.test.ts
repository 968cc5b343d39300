// The agent drives its routing backend through the RoutingBackend port only: a backend other than
// HAProxy (here a recording one) gets the same assignments, and a failed apply is re-sent whole.
import { startAgent, type Agent } from "../../../agent/agent";
import type { RoutingBackend } from "../../../agent/ports";
import { slotCommands } from "../../../adapters/routingBackend/haproxy";
import type { SlotAssignment } from "../../../core/routing/weights";
import { registerBackend } from "../../../state/registry";
import { setCanaryWeight } from "../../../state/routing";
import { until } from "../../../harness/until";
import { testLogger } from "../../support/testLogger";
import { useRedis } from "../../support/useRedis";

const db = useRedis();

class RecordingBackend implements RoutingBackend {
  readonly batches: SlotAssignment[][] = [];
  failNext = false;
  async apply(changed: readonly SlotAssignment[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("backend down");
    }
    this.batches.push(changed.map((a) => ({ ...a })));
  }
}

let agent: Agent | undefined;
afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

async function register(): Promise<void> {
  await registerBackend(db.redis, { id: "p1", role: "prod", address: "127.0.0.1:9001", version: "1.0.0", ttlSeconds: 600 });
  await registerBackend(db.redis, { id: "c1", role: "canary", address: "127.0.0.1:9002", version: "1.1.0", ttlSeconds: 600 });
}

test("a routing backend gets every slot at start, then only the slots a change touched", async () => {
  await register();
  await setCanaryWeight(db.redis, 25, { by: "test" });
  const backend = new RecordingBackend();
  agent = await startAgent({ redisUrl: db.server.url, backend, slots: { prod: 2, canary: 1 }, resyncMs: 60_000, logger: testLogger("routing-backend") });
  expect(backend.batches[0].map((a) => `${a.slot}=${a.state}:${a.weight}`)).toEqual(["prod1=ready:3", "prod2=maint:0", "canary1=ready:1"]);

  await setCanaryWeight(db.redis, 50, { by: "test" });
  await agent.waitForApplied((a) => a.some((s) => s.slot === "canary1" && s.weight === 1) && a.some((s) => s.slot === "prod1" && s.weight === 1), 30_000);
  expect(backend.batches.at(-1)!.map((a) => a.slot)).toEqual(["prod1"]);
});

test("a failed apply is not taken as applied: the next apply re-sends every slot", async () => {
  await register();
  await setCanaryWeight(db.redis, 25, { by: "test" });
  const backend = new RecordingBackend();
  agent = await startAgent({ redisUrl: db.server.url, backend, slots: { prod: 2, canary: 1 }, resyncMs: 60_000, logger: testLogger("routing-backend") });
  backend.failNext = true;
  await setCanaryWeight(db.redis, 50, { by: "test" });
  await until("the apply of weight 50 failed", async () => !backend.failNext, 30_000);
  const start = backend.batches.length;
  await setCanaryWeight(db.redis, 10, { by: "test" });
  await agent.waitForApplied((a) => a.some((s) => s.slot === "prod1" && s.weight === 9), 30_000);
  expect(backend.batches.slice(start).at(-1)!.map((a) => a.slot)).toEqual(["prod1", "prod2", "canary1"]);
});

test.each([
  ["a ready slot: address, weight, then ready", { slot: "prod1", address: "10.0.0.5", port: 8080, weight: 3, state: "ready" }, ["set server app/prod1 addr 10.0.0.5 port 8080", "set server app/prod1 weight 3", "set server app/prod1 state ready"]],
  ["a drained slot: maint first, so no request reaches a half-updated server", { slot: "canary1", address: "10.0.0.6", port: 8080, weight: 0, state: "maint" }, ["set server app/canary1 state maint", "set server app/canary1 addr 10.0.0.6 port 8080", "set server app/canary1 weight 0"]],
] as const)("HAProxy's commands for %s", (_what, assignment, commands) => {
  expect(slotCommands(assignment as SlotAssignment)).toEqual(commands);
});
