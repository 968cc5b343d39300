// The OpenFeature provider against a real redis-server: in-memory evaluation, live updates from the
// CLI, garbage ignored, Redis outages (STALE / ERROR, snapshot file), resync.
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type Client } from "@openfeature/server-sdk";
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { booleanFlag } from "../../../core/flags/model";
import { AviaryFlagProvider } from "../../../flags/provider";
import { connect } from "../../../state/connection";
import { putFlag } from "../../../state/flags";
import { channels, keys } from "../../../state/keys";
import { until } from "../../../harness/until";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";
import { tempDir } from "../../support/tempDir";

let server: RedisServer;
let redis: Redis;
let dir: string;
let domainCounter = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = connect(server.url);
  dir = tempDir("aviary-provider-");
});

afterAll(async () => {
  await OpenFeature.close();
  await redis?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[]): Promise<number> {
  const sink = { write: () => true };
  return run(argv, { stdout: sink, stderr: sink }, { env: { REDIS_URL: server.url } });
}

interface Started {
  provider: AviaryFlagProvider;
  client: Client;
  events: { type: string; at: number; flagsChanged?: string[] }[];
  ready: Promise<void>;
}

/** Binds a new provider to its own OpenFeature domain and records the events the app would see. */
function start(opts: { snapshotFile?: string; reloadIntervalMs?: number } = {}): Started {
  const domain = `test-${++domainCounter}`;
  const provider = new AviaryFlagProvider({ redisUrl: server.url, retryIntervalMs: 200, ...opts });
  const client = OpenFeature.getClient(domain);
  const events: Started["events"] = [];
  for (const type of [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.ConfigurationChanged]) {
    client.addHandler(type, (d) => events.push({ type, at: performance.now(), flagsChanged: (d as { flagsChanged?: string[] } | undefined)?.flagsChanged }));
  }
  return { provider, client, events, ready: OpenFeature.setProviderAndWait(domain, provider) };
}

async function getCalls(): Promise<number> {
  const info = await redis.info("commandstats");
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

describe("with Redis up", () => {
  beforeAll(async () => {
    await redis.flushall();
    await putFlag(redis, booleanFlag("hiddenfeature", "web"), { by: "t" });
    await cli(["flags", "set", "hiddenfeature", "on"]);
    await putFlag(redis, { key: "theme", type: "string", enabled: true, variants: { blue: "#00f", green: "#0f0" }, defaultVariant: "blue", rules: [{ attribute: "plan", op: "equals", value: "pro", variant: "green" }], owner: "design" }, { by: "t" });
    await cli(["flags", "rollout", "newcheckout", "30"]);
  });

  test("reasons, variants, metadata and error codes per the OpenFeature spec", async () => {
    const { client, ready } = start();
    await ready;
    const on = await client.getBooleanDetails("hiddenfeature", false);
    expect(on).toMatchObject({ value: true, variant: "on", reason: "STATIC", flagMetadata: { version: 2, owner: "web" } });
    expect(on.errorCode).toBeUndefined();
    expect(await client.getStringDetails("theme", "?", { plan: "pro" })).toMatchObject({ value: "#0f0", variant: "green", reason: "TARGETING_MATCH" });
    expect(await client.getStringDetails("theme", "?", { plan: "free" })).toMatchObject({ value: "#00f", variant: "blue", reason: "DEFAULT" });
    const split = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.getBooleanDetails("newcheckout", false, { targetingKey: `u${i}` })));
    expect(new Set(split.map((d) => d.reason))).toEqual(new Set(["SPLIT"]));
    const share = split.filter((d) => d.value).length / 10;
    expect(share).toBeGreaterThan(25);
    expect(share).toBeLessThan(35);
    expect(await client.getStringDetails("hiddenfeature", "code-default")).toMatchObject({ value: "code-default", reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getObjectDetails("theme", { a: 1 })).toMatchObject({ value: { a: 1 }, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getBooleanDetails("nope", true)).toMatchObject({ value: true, reason: "ERROR", errorCode: ErrorCode.FLAG_NOT_FOUND });
  });

  test("a killed flag resolves to the caller's default value with reason DISABLED and no variant", async () => {
    const { client, ready } = start();
    await ready;
    expect(await cli(["flags", "set", "killme", "on"])).toBe(0);
    await until("on to arrive", async () => (await client.getBooleanValue("killme", false)) === true, 15_000);
    expect(await cli(["flags", "kill", "killme", "--reason", "test"])).toBe(0);
    await until("kill to arrive", async () => (await client.getBooleanDetails("killme", false)).reason === "DISABLED", 15_000);
    const killed = await client.getBooleanDetails("killme", false, { targetingKey: "u1" });
    expect(killed).toMatchObject({ value: false, reason: "DISABLED", flagMetadata: { owner: expect.any(String) } });
    expect(killed.variant).toBeUndefined();
    expect(killed.errorCode).toBeUndefined();
    // The code's own default, whatever it is, for every type.
    expect(await client.getBooleanDetails("killme", true)).toMatchObject({ value: true, reason: "DISABLED" });
    await cli(["flags", "kill", "theme", "--reason", "test"]);
    await until("theme kill to arrive", async () => (await client.getStringDetails("theme", "code", { plan: "pro" })).reason === "DISABLED", 15_000);
    expect(await client.getStringDetails("theme", "code", { plan: "pro" })).toMatchObject({ value: "code", reason: "DISABLED" });
    await putFlag(redis, { key: "batch", type: "number", enabled: false, variants: { small: 10, large: 500 }, defaultVariant: "large", owner: "infra" }, { by: "t" });
    await until("batch to arrive", async () => (await client.getNumberDetails("batch", 7)).reason === "DISABLED", 15_000);
    expect(await client.getNumberDetails("batch", 7)).toMatchObject({ value: 7, reason: "DISABLED" });
    // A type mismatch is still an error, killed or not.
    expect(await client.getStringDetails("killme", "x")).toMatchObject({ value: "x", reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
  });

  test("evaluation makes no Redis call", async () => {
    const { client, provider, ready } = start({ reloadIntervalMs: 60_000 });
    await ready;
    const before = await getCalls();
    for (let i = 0; i < 5000; i++) {
      provider.resolve("hiddenfeature", false, { targetingKey: `u${i}` }, "boolean");
      await client.getBooleanValue("newcheckout", false, { targetingKey: `u${i}` });
    }
    expect(await getCalls()).toBe(before);
  });

  test("a change made with the CLI reaches a running SDK (propagation measured)", async () => {
    const { client, provider, events, ready } = start({ reloadIntervalMs: 60_000 });
    await ready;
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const want = i % 2 === 0 ? "off" : "on";
      const t0 = performance.now();
      expect(await cli(["flags", "set", "hiddenfeature", want])).toBe(0);
      // Poll the in-memory evaluation on every turn of the event loop.
      while (provider.resolve("hiddenfeature", false, {}, "boolean").value !== (want === "on")) {
        if (performance.now() - t0 > 15_000) throw new Error(`change ${i} not seen within 15 s`);
        await new Promise((r) => setImmediate(r));
      }
      latencies.push(performance.now() - t0);
    }
    expect(await client.getBooleanValue("hiddenfeature", false)).toBe(true);
    latencies.sort((a, b) => a - b);
    // Includes the CLI's own connect + write; the benchmark (bench/flags.ts) reports the real figures.
    console.log(`propagation (CLI run → evaluation), 20 changes: p50 ${latencies[10].toFixed(1)} ms, max ${latencies[19].toFixed(1)} ms`);
    expect(events.filter((e) => e.type === ProviderEvents.ConfigurationChanged && e.flagsChanged?.includes("hiddenfeature")).length).toBeGreaterThanOrEqual(20);
  });

  test("garbage written straight into Redis is ignored; the last good definition is kept", async () => {
    const { provider, ready } = start({ reloadIntervalMs: 100 });
    await ready;
    expect(provider.resolve("hiddenfeature", false, {}, "boolean").value).toBe(true);
    const good = await redis.get(keys.flag("hiddenfeature"));
    await redis.set(keys.flag("hiddenfeature"), JSON.stringify({ key: "hiddenfeature", type: "boolean", enabled: true, variants: { on: "yes" } }));
    await redis.publish(channels.changes, JSON.stringify({ kind: "flag", id: "hiddenfeature", eventId: "0-1" }));
    await redis.publish(channels.changes, "not json at all");
    await new Promise((r) => setTimeout(r, 400)); // the notice and a few periodic reloads
    expect(provider.resolve("hiddenfeature", false, {}, "boolean")).toMatchObject({ value: true, variant: "on" });
    expect(provider.state).toBe("live");
    await redis.set(keys.flag("hiddenfeature"), good!);
  });
});

describe("Redis outage", () => {
  test("STALE + last known good, restart from the snapshot file, ERROR without one, resync when Redis is back", async () => {
    await redis.flushall();
    await cli(["flags", "set", "hiddenfeature", "on"]);
    await cli(["flags", "rollout", "newcheckout", "50"]);
    const snapshotFile = path.join(dir, "flags.json");
    const a = start({ snapshotFile, reloadIntervalMs: 200 });
    await a.ready;
    await until("snapshot file", () => existsSync(snapshotFile), 15_000);
    expect((JSON.parse(readFileSync(snapshotFile, "utf8")) as { flags: { key: string }[] }).flags.map((f) => f.key)).toEqual(["hiddenfeature", "newcheckout"]);
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    const expected = await Promise.all(users.map((u) => a.client.getBooleanValue("newcheckout", false, { targetingKey: u })));

    await server.kill();
    await until("STALE event", () => a.events.some((e) => e.type === ProviderEvents.Stale), 15_000);
    expect(a.client.providerStatus).toBe(ProviderStatus.STALE);
    expect(a.provider.state).toBe("stale");
    // Keep evaluating through the outage: same answers, never an exception, never an error code.
    for (let round = 0; round < 5; round++) {
      const details = await Promise.all(users.map((u) => a.client.getBooleanDetails("newcheckout", false, { targetingKey: u })));
      expect(details.map((d) => d.value)).toEqual(expected);
      expect(details.every((d) => d.errorCode === undefined && d.reason === "SPLIT")).toBe(true);
      expect(await a.client.getBooleanValue("hiddenfeature", false)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
    }

    // "Restart" during the outage: a new provider with the same snapshot file serves the same flags.
    const b = start({ snapshotFile, reloadIntervalMs: 200 });
    await b.ready; // READY from the snapshot …
    await until("STALE after snapshot start", () => b.events.some((e) => e.type === ProviderEvents.Stale), 15_000);
    expect(await b.client.getBooleanDetails("hiddenfeature", false)).toMatchObject({ value: true, variant: "on", reason: "STATIC" });
    expect(await Promise.all(users.map((u) => b.client.getBooleanValue("newcheckout", false, { targetingKey: u })))).toEqual(expected);

    // Nothing at all (no Redis, no snapshot): ERROR, and the code default.
    const c = start({ snapshotFile: path.join(dir, "never-written.json") });
    await expect(c.ready).rejects.toThrow(/redis unavailable/);
    expect(c.events.some((e) => e.type === ProviderEvents.Error)).toBe(true);
    expect(await c.client.getBooleanDetails("hiddenfeature", false)).toMatchObject({ value: false, reason: "ERROR", errorCode: ErrorCode.PROVIDER_NOT_READY });

    // Redis back (empty: the test server keeps no data): every provider resyncs and says READY;
    // an empty Redis does not wipe the last known good, and the next change reaches all three.
    const staleCount = (s: Started): number => s.events.filter((e) => e.type === ProviderEvents.Ready).length;
    const readyBefore = [a, b, c].map(staleCount);
    await server.restart();
    for (const [i, s] of [a, b, c].entries()) await until(`READY after restart (${i})`, () => staleCount(s) > readyBefore[i], 15_000);
    for (const s of [a, b, c]) expect(s.client.providerStatus).toBe(ProviderStatus.READY);
    expect(await a.client.getBooleanValue("hiddenfeature", false)).toBe(true);
    await until("CLI after restart", async () => (await cli(["flags", "set", "hiddenfeature", "off"])) === 0, 15_000);
    for (const s of [a, b, c]) {
      await until("change after resync", async () => (await s.client.getBooleanDetails("hiddenfeature", true)).variant === "off", 15_000);
    }
  });
});
