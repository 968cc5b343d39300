// Up means every instance has registered (the canary too, so the first status lists it) and the
// agent has put the fleet into HAProxy.
import type Redis from "ioredis";
import type { LocalFleet } from "../adapters/fleet/local";
import { listBackends } from "../state/registry";
import type { LocalConfig } from "./config";
import { proxyStatuses } from "./status";
import { until } from "../harness/until";

export async function waitUntilUp(redis: Redis, fleet: LocalFleet, config: LocalConfig, socket: string): Promise<void> {
  const { prod, canary } = config;
  const expected = [...(await fleet.describe()).instances.map((i) => i.id), ...Array.from({ length: canary.canaryCount }, (_, i) => `canary-${i + 1}`)];
  await until("every instance registered", async () => {
    const registered = new Set((await listBackends(redis)).backends.map((b) => b.id));
    return expected.every((id) => registered.has(id));
  }, 20_000);
  await until("agent applied the fleet to haproxy", async () => [...(await proxyStatuses(socket)).values()].filter((s) => s === "UP").length >= prod.prodFleet.desired, 20_000);
}
