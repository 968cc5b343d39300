// The OpenFeature provider against a real redis-server: in-memory evaluation, live updates from the
// CLI, object / integer / float flags, the flag's own metadata, segments (notices, reloads, the
// snapshot), garbage (last good kept, else PARSE_ERROR), unusable configuration (FATAL), Redis
// outages (STALE / ERROR, snapshot file), resync.
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ErrorCode, OpenFeature, ProviderEvents, ProviderFatalError, ProviderStatus, type Client } from "@openfeature/server-sdk";
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { booleanFlag, type FlagDefinition, type SegmentDefinitionInput } from "../../../core/flags/model";
import { AviaryFlagProvider } from "../../../flags/provider";
import { connect } from "../../../state/connection";
import { putFlag } from "../../../state/flags";
import { putSegment } from "../../../state/segments";
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
function start(opts: { snapshotFile?: string; reloadIntervalMs?: number; redisUrl?: string } = {}): Started {
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
    expect(on).toMatchObject({ value: true, variant: "on", reason: "STATIC" });
    expect(on.flagMetadata).toEqual({}); // the flag has no metadata of its own: none is invented
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
    expect(killed).toMatchObject({ value: false, reason: "DISABLED" });
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

describe("flag types, metadata, segments, garbage, configuration", () => {
  const beta: SegmentDefinitionInput = { name: "beta", match: "any", conditions: [{ attribute: "email", op: "endsWith", value: "@example.com" }], included: ["vip-1"] };
  /** A flag whose one rule serves `on` to the members of `segment`. */
  const usingSegment = (key: string, segment: string): FlagDefinition => ({
    ...booleanFlag(key, "growth"),
    rules: [{ match: "all", conditions: [{ op: "inSegment", segment }], variant: "on" }],
  });

  beforeAll(async () => {
    await redis.flushall();
    await putFlag(redis, { key: "layout", type: "object", enabled: true, variants: { compact: { cols: 2, dense: true }, wide: [{ cols: 4 }, "hero"] }, defaultVariant: "compact", rules: [{ match: "all", conditions: [{ attribute: "plan", op: "equals", value: "pro" }], variant: "wide" }], owner: "design" }, { by: "t" });
    await putFlag(redis, { key: "batch-size", type: "integer", enabled: true, variants: { small: 10, large: 500 }, defaultVariant: "small", owner: "infra", metadata: { team: "infra", ticket: 42, reviewed: true } }, { by: "t" });
    await putFlag(redis, { key: "sample-rate", type: "number", enabled: true, variants: { low: 0.25, high: 0.75 }, defaultVariant: "low", owner: "infra" }, { by: "t" });
    await putFlag(redis, booleanFlag("plain", "web"), { by: "t" });
    await putSegment(redis, beta, { by: "t" });
    await putFlag(redis, usingSegment("beta-banner", "beta"), { by: "t" });
    await putFlag(redis, usingSegment("beta-search", "beta"), { by: "t" });
  });

  test("object flags resolve through resolveObjectEvaluation (value, variant, reason); TYPE_MISMATCH both ways", async () => {
    const { client, ready } = start();
    await ready;
    expect(await client.getObjectDetails("layout", {})).toMatchObject({ value: { cols: 2, dense: true }, variant: "compact", reason: "DEFAULT" });
    expect(await client.getObjectDetails("layout", {}, { plan: "pro" })).toMatchObject({ value: [{ cols: 4 }, "hero"], variant: "wide", reason: "TARGETING_MATCH" });
    expect(await client.getBooleanDetails("layout", false)).toMatchObject({ value: false, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH, errorMessage: expect.stringContaining("object flag") });
    expect(await client.getObjectDetails("plain", { a: 1 })).toMatchObject({ value: { a: 1 }, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getNumberDetails("layout", 3)).toMatchObject({ value: 3, errorCode: ErrorCode.TYPE_MISMATCH });
  });

  test("integer and float flags both answer the number method; an integer flag always yields an integer", async () => {
    const { client, ready } = start();
    await ready;
    const size = await client.getNumberDetails("batch-size", 2.5);
    expect(size).toMatchObject({ value: 10, variant: "small", reason: "STATIC" });
    expect(Number.isInteger(size.value)).toBe(true);
    expect(await client.getNumberDetails("sample-rate", 1)).toMatchObject({ value: 0.25, variant: "low" });
    expect(await client.getStringDetails("batch-size", "x")).toMatchObject({ value: "x", errorCode: ErrorCode.TYPE_MISMATCH });
  });

  test("metadata is the flag's own, and empty for a flag that has none", async () => {
    const { client, ready } = start();
    await ready;
    expect((await client.getNumberDetails("batch-size", 1)).flagMetadata).toEqual({ team: "infra", ticket: 42, reviewed: true });
    expect((await client.getBooleanDetails("plain", false)).flagMetadata).toEqual({});
  });

  test("segments: rules match members; a segment change re-reads it at once and names every flag that uses it", async () => {
    const { client, events, ready } = start({ reloadIntervalMs: 60_000 });
    await ready;
    expect(await client.getBooleanDetails("beta-banner", false, { email: "a@example.com" })).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(await client.getBooleanDetails("beta-banner", false, { targetingKey: "vip-1" })).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(await client.getBooleanDetails("beta-banner", false, { email: "a@other.test" })).toMatchObject({ value: false, reason: "DEFAULT" });
    const t0 = performance.now();
    await putSegment(redis, { ...beta, conditions: [{ attribute: "email", op: "endsWith", value: "@other.test" }] }, { by: "t" });
    await until("segment change", () => events.some((e) => e.type === ProviderEvents.ConfigurationChanged), 15_000);
    const change = events.find((e) => e.type === ProviderEvents.ConfigurationChanged)!;
    expect(change.flagsChanged).toEqual(["beta-banner", "beta-search"]);
    console.log(`segment change → CONFIGURATION_CHANGED in ${(change.at - t0).toFixed(1)} ms`);
    expect(await client.getBooleanValue("beta-search", false, { email: "a@other.test" })).toBe(true);
    expect(await client.getBooleanValue("beta-search", false, { email: "a@example.com" })).toBe(false);
  });

  test("a garbage segment keeps its last good version (notice and periodic reload)", async () => {
    const { provider, ready } = start({ reloadIntervalMs: 100 });
    await ready;
    const member = { email: "a@other.test" };
    expect(provider.resolve("beta-banner", false, member, "boolean").value).toBe(true);
    const good = await redis.get(keys.segment("beta"));
    await redis.set(keys.segment("beta"), JSON.stringify({ name: "beta", conditions: "all of them" }));
    await redis.publish(channels.changes, JSON.stringify({ kind: "segment", id: "beta", eventId: "0-1" }));
    await new Promise((r) => setTimeout(r, 400));
    expect(provider.resolve("beta-banner", false, member, "boolean")).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    await redis.set(keys.segment("beta"), good!);
  });

  test("a stored flag that is garbage with no last good version resolves to PARSE_ERROR naming the problem; with one it keeps serving", async () => {
    const { client, ready } = start({ reloadIntervalMs: 60_000 });
    await ready;
    await redis.sadd(keys.flags, "broken");
    await redis.set(keys.flag("broken"), "{not json");
    await redis.publish(channels.changes, JSON.stringify({ kind: "flag", id: "broken", eventId: "0-2" }));
    await until("PARSE_ERROR", async () => (await client.getBooleanDetails("broken", true)).errorCode === ErrorCode.PARSE_ERROR, 15_000);
    expect(await client.getBooleanDetails("broken", true)).toMatchObject({ value: true, reason: "ERROR", errorMessage: expect.stringMatching(/broken.*not JSON/) });
    // A provider starting now finds it on its full read: the same answer, not FLAG_NOT_FOUND.
    const later = start();
    await later.ready;
    await redis.set(keys.flag("broken"), JSON.stringify({ key: "broken", type: "boolean", enabled: true, variants: { on: "yes" } }));
    const reread = start();
    await reread.ready;
    expect(await later.client.getBooleanDetails("broken", false)).toMatchObject({ value: false, errorCode: ErrorCode.PARSE_ERROR });
    expect(await reread.client.getBooleanDetails("broken", false)).toMatchObject({ errorCode: ErrorCode.PARSE_ERROR, errorMessage: expect.stringMatching(/broken defaultVariant: .*expected string/) });
    // Fixed through the store: served again.
    await putFlag(redis, booleanFlag("broken", "web"), { by: "t" });
    await until("fixed", async () => (await client.getBooleanDetails("broken", true)).variant === "off", 15_000);
    // Broken again after a good version: the good one stays.
    await redis.set(keys.flag("broken"), "{not json");
    await redis.publish(channels.changes, JSON.stringify({ kind: "flag", id: "broken", eventId: "0-3" }));
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.getBooleanDetails("broken", true)).toMatchObject({ value: false, variant: "off", reason: "STATIC" });
    await redis.del(keys.flag("broken"));
    await redis.srem(keys.flags, "broken");
  });

  test.each([
    ["not set", ""],
    ["no scheme separator", "redis//x"],
    ["another protocol", "http://x"],
    ["port out of range", "redis://x:99999"],
    ["port not a number", "redis://x:abc"],
    ["port 0", "redis://x:0"],
  ])("an unusable REDIS_URL (%s) is FATAL: initialize rejects with PROVIDER_FATAL, no retries, evaluations say PROVIDER_FATAL", async (_why, url) => {
    const { client, provider, events, ready } = start({ redisUrl: url });
    const err: unknown = await ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderFatalError);
    expect(err).toMatchObject({ code: ErrorCode.PROVIDER_FATAL, message: expect.stringContaining("REDIS_URL") });
    expect(client.providerStatus).toBe(ProviderStatus.FATAL);
    expect(provider.state).toBe("fatal");
    expect(await client.getBooleanDetails("plain", true)).toMatchObject({ value: true, reason: "ERROR", errorCode: ErrorCode.PROVIDER_FATAL });
    expect(provider.resolve("plain", true, {}, "boolean")).toMatchObject({ value: true, errorCode: ErrorCode.PROVIDER_FATAL, errorMessage: expect.stringContaining("REDIS_URL") });
    await new Promise((r) => setTimeout(r, 500)); // no retry ever turns it READY
    expect(events.map((e) => e.type)).toEqual([ProviderEvents.Error]);
  });
});

describe("Redis outage", () => {
  test("STALE + last known good, restart from the snapshot file, ERROR without one, resync when Redis is back", async () => {
    await redis.flushall();
    await cli(["flags", "set", "hiddenfeature", "on"]);
    await cli(["flags", "rollout", "newcheckout", "50"]);
    await putSegment(redis, { name: "staff", included: ["u-staff"] }, { by: "t" });
    await putFlag(redis, { ...booleanFlag("staff-tools", "web"), rules: [{ match: "all", conditions: [{ op: "inSegment", segment: "staff" }], variant: "on" }] }, { by: "t" });
    const snapshotFile = path.join(dir, "flags.json");
    const a = start({ snapshotFile, reloadIntervalMs: 200 });
    await a.ready;
    await until("snapshot file", () => existsSync(snapshotFile), 15_000);
    const saved = JSON.parse(readFileSync(snapshotFile, "utf8")) as { flags: { key: string }[]; segments: { name: string }[] };
    expect(saved.flags.map((f) => f.key)).toEqual(["hiddenfeature", "newcheckout", "staff-tools"]);
    expect(saved.segments.map((s) => s.name)).toEqual(["staff"]);
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
    // The snapshot carries segments: rules that use them still match after the restart.
    expect(await b.client.getBooleanDetails("staff-tools", false, { targetingKey: "u-staff" })).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
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
