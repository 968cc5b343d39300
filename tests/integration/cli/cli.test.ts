import { REPO_ROOT } from "../../support/repoRoot";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type Redis from "ioredis";
import { onOutputError, run } from "../../../cli/main";
import { LOCAL_STATE_FILE } from "../../../discovery/localStateFile";
import { connect } from "../../../state/connection";
import { withControllerLock } from "../../../state/controller";
import { keys } from "../../../state/keys";
import { registerBackend } from "../../../state/registry";
import { startRedisServer, type RedisServer } from "../../../harness/redisServer";
import { tempDir } from "../../support/tempDir";
import { until } from "../../../harness/until";

const ROOT = path.resolve(REPO_ROOT);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let server: RedisServer;
let redis: Redis;

async function cli(argv: string[], opts: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; stdout?: string[]; cwd?: string } = {}): Promise<Result> {
  const out = opts.stdout ?? [];
  const err: string[] = [];
  const code = await run(
    argv,
    { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } },
    { env: opts.env ?? { REDIS_URL: server.url }, signal: opts.signal, cwd: opts.cwd },
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}

async function snapshot(): Promise<{ routing: Record<string, string>; events: number }> {
  return { routing: await redis.hgetall(keys.routing), events: await redis.xlen(keys.events) };
}

beforeAll(async () => {
  server = await startRedisServer();
  redis = connect(server.url);
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

beforeEach(async () => {
  await redis.flushall();
});

test("canary weight 25 then status --json shows 25 and enabled", async () => {
  expect((await cli(["canary", "weight", "25"])).code).toBe(0);
  const res = await cli(["status", "--json"]);
  expect(res.code).toBe(0);
  const status = JSON.parse(res.stdout) as { routing: { canaryWeight: number; canaryEnabled: boolean; changedBy: string } };
  expect(status.routing).toMatchObject({ canaryWeight: 25, canaryEnabled: true });
  expect(status.routing.changedBy).toMatch(/^cli:.+@.+$/);
});

test.each(["101", "-1", "abc", "2.5"])("canary weight %s → exit 2, nothing written", async (bad) => {
  await cli(["canary", "weight", "10"]);
  const before = await snapshot();
  const res = await cli(["canary", "weight", bad]);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain(`invalid weight "${bad}"`);
  expect(res.stderr.trim().split("\n")).toHaveLength(1);
  expect(await snapshot()).toEqual(before);
});

test("canary off --reason disables, keeps weight, records the reason; canary on restores", async () => {
  await cli(["canary", "weight", "30"]);
  expect((await cli(["canary", "off", "--reason", "5xx"])).code).toBe(0);
  const status = JSON.parse((await cli(["status", "--json"])).stdout) as { routing: Record<string, unknown> };
  expect(status.routing).toMatchObject({ canaryWeight: 30, canaryEnabled: false, reason: "5xx" });
  const text = await cli(["status"]);
  expect(text.stdout).toContain("canary: disabled, weight 30%");
  expect(text.stdout).toContain("reason: 5xx");
  const events = await cli(["events", "--count", "5"]);
  expect(events.code).toBe(0);
  const lines = events.stdout.trim().split("\n");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('reason="5xx"');
  expect(lines[1]).toContain("cause=disable");

  expect((await cli(["canary", "on"])).code).toBe(0);
  const after = JSON.parse((await cli(["status", "--json"])).stdout) as { routing: Record<string, unknown> };
  expect(after.routing).toMatchObject({ canaryWeight: 30, canaryEnabled: true });
  expect(after.routing.reason).toBeUndefined();
});

test("canary weight and on wait for a decision holding the controller lock; canary off never waits", async () => {
  await cli(["canary", "weight", "10"]);
  const holdMs = 600;
  const hold = (ms = holdMs): Promise<void> => withControllerLock(redis, { ttlMs: 10_000, waitMs: 1000 }, () => new Promise((r) => setTimeout(r, ms)));
  for (const argv of [["canary", "weight", "20"], ["canary", "on"]]) {
    const held = hold();
    await until("the lock is taken", async () => (await redis.exists(keys.controllerLock)) === 1, 5000);
    const started = Date.now();
    const res = await cli(argv);
    expect(res.code).toBe(0);
    // Written once the holder let go: after the hold, never in the middle of its decision.
    expect(Date.now() - started).toBeGreaterThanOrEqual(holdMs - 100);
    await held;
  }
  // A long hold (a stuck holder): the off must not wait for it.
  const held = hold(4000);
  await until("the lock is taken", async () => (await redis.exists(keys.controllerLock)) === 1, 5000);
  const res = await cli(["canary", "off", "--reason", "now"]);
  expect(res.code).toBe(0);
  // Off while the lock is still held: written without waiting for it.
  expect(await redis.exists(keys.controllerLock)).toBe(1);
  expect(await redis.hget(keys.routing, "canaryEnabled")).toBe("false");
  await held;
});

test("canary off without --reason is a usage error and writes nothing", async () => {
  const before = await snapshot();
  const res = await cli(["canary", "off"]);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain("--reason");
  expect(await snapshot()).toEqual(before);
});

test("backends lists a registered backend (table and --json)", async () => {
  await registerBackend(redis, { id: "c1", role: "canary", address: "10.0.0.7:8080", version: "v2", ttlSeconds: 60 });
  const res = await cli(["backends"]);
  expect(res.code).toBe(0);
  expect(res.stdout).toMatch(/^ID\s+ROLE\s+ADDRESS\s+VERSION\n/);
  expect(res.stdout).toMatch(/c1\s+canary\s+10\.0\.0\.7:8080\s+v2/);
  const json = JSON.parse((await cli(["backends", "--json"])).stdout) as { id: string }[];
  expect(json.map((b) => b.id)).toEqual(["c1"]);
  expect((await cli(["status"])).stdout).toContain("canary backends (1):\n  c1  10.0.0.7:8080  v2");
});

test("garbage in aviary:routing → warning on stderr, its section unreadable, exit 0 (only an unreachable Redis fails status)", async () => {
  await redis.hset(keys.routing, { canaryWeight: "lots", canaryEnabled: "maybe" });
  const res = await cli(["status"]);
  expect(res.code).toBe(0);
  expect(res.stderr).toContain("aviary: warning: aviary:routing canaryWeight");
  expect(res.stdout).toContain("routing state unreadable");
  const json = await cli(["status", "--json"]);
  expect(json.code).toBe(0);
  expect((JSON.parse(json.stdout) as { routing: unknown }).routing).toBeNull();
});

test("without REDIS_URL it uses the running local stack's state file (npm start), not a stale one", async () => {
  const dir = tempDir("aviary-cli-local-");
  fs.mkdirSync(path.join(dir, ".aviary"));
  const file = path.join(dir, LOCAL_STATE_FILE);
  const state = { pid: process.pid, redisUrl: server.url, proxyUrl: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:2" };
  fs.writeFileSync(file, JSON.stringify(state));
  const live = await cli(["status", "--json"], { env: {}, cwd: dir });
  expect(live.code).toBe(0);
  expect(JSON.parse(live.stdout)).toHaveProperty("routing");
  // A runner that is gone (pid not alive) leaves a stale file: not used, and said so.
  fs.writeFileSync(file, JSON.stringify({ ...state, pid: 2 ** 22 + 1 }));
  const stale = await cli(["status"], { env: {}, cwd: dir });
  expect(stale.code).toBe(2);
  expect(stale.stderr).toContain("the local stack in this checkout is not running");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("bad --count → exit 2", async () => {
  const res = await cli(["events", "--count", "0"]);
  expect(res.code).toBe(2);
  expect(res.stderr).toContain('invalid count "0"');
});

test("events --follow streams new events until aborted, then exits 0", async () => {
  await cli(["canary", "weight", "5"]);
  const ac = new AbortController();
  const out: string[] = [];
  const following = cli(["events", "--follow"], { signal: ac.signal, stdout: out });
  await until("the first event", () => out.length === 1, 5000);
  await cli(["canary", "weight", "6"]);
  await until("the second event", () => out.length === 2, 5000);
  expect(out[1]).toContain("newWeight=6");
  ac.abort();
  expect((await following).code).toBe(0);
});

let built: Promise<string> | undefined;
/** dist/cli.js as `npm run build:cli` makes it (built once per run of this file). */
function builtCli(): Promise<string> {
  built ??= promisify(execFile)(path.join(ROOT, "bin", "build-cli"), [], { timeout: 60_000 }).then(() => path.join(ROOT, "dist", "cli.js"));
  return built;
}

test("the built binary prints status end to end", async () => {
  const outfile = await builtCli();
  await cli(["canary", "weight", "40"]);
  const { stdout } = await promisify(execFile)(process.execPath, [outfile, "status"], {
    env: { ...process.env, REDIS_URL: server.url },
    timeout: 20_000,
  });
  expect(stdout).toContain("canary: enabled, weight 40%");
});

test("--version prints the package version and exits 0 (in process and from the built binary)", async () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  const res = await cli(["--version"]);
  expect(res).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  const { stdout } = await promisify(execFile)(process.execPath, [await builtCli(), "--version"], { env: { ...process.env, REDIS_URL: server.url }, timeout: 20_000 });
  expect(stdout).toBe(`${version}\n`);
});

test("a reader that closes the pipe early (status | head -3): exit 0, no stack trace", async () => {
  // Enough backends that status writes far more than a pipe buffer holds.
  await Promise.all(
    Array.from({ length: 3000 }, (_, i) => registerBackend(redis, { id: `p${i}`, role: "prod", address: `10.0.${i >> 8}.${i & 255}:8080`, version: "v1", ttlSeconds: 60 })),
  );
  const child = spawn(process.execPath, [await builtCli(), "status"], { env: { ...process.env, REDIS_URL: server.url }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout.once("data", () => child.stdout.destroy());
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
  expect(stderr).toBe("");
  expect({ code, signal }).toEqual({ code: 0, signal: null });
});

test.each([
  ["EPIPE", 0, ""],
  ["EIO", 1, "aviary: cannot write output: write EIO\n"],
])("a stdout error %s exits %i, printing %j", (code, exit, printed) => {
  const exits: number[] = [];
  const err: string[] = [];
  onOutputError(Object.assign(new Error(`write ${code}`), { code }), (c) => exits.push(c), { write: (s: string) => err.push(s) });
  expect(exits).toEqual([exit]);
  expect(err.join("")).toBe(printed);
});

describe("--json on every read command prints JSON", () => {
  beforeEach(async () => {
    await cli(["canary", "weight", "15"]);
    await cli(["flags", "set", "f1", "on", "--reason", "launch"]);
    await registerBackend(redis, { id: "c1", role: "canary", address: "10.0.0.7:8080", version: "v2", ttlSeconds: 60 });
  });

  test.each([
    ["status", ["status", "--json"], { routing: { canaryWeight: 15 }, backends: { canary: [{ id: "c1" }] } }],
    ["backends", ["backends", "--json"], [{ id: "c1", role: "canary" }]],
    ["events", ["events", "--json"], [{ kind: "routing" }, { kind: "flag", reason: "launch" }, { kind: "backend" }]],
    ["flags list", ["flags", "list", "--json"], [{ key: "f1", enabled: true }]],
    ["flags get", ["flags", "get", "f1", "--json"], { key: "f1", defaultVariant: "on" }],
    ["flags history", ["flags", "history", "f1", "--json"], [{ kind: "flag", reason: "launch", detail: { key: "f1", cause: "set" } }]],
  ] as [string, string[], object][])("%s --json", async (_label, argv, expected) => {
    const res = await cli(argv);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject(expected);
  });

  test("events --follow --json streams one JSON event per line", async () => {
    const ac = new AbortController();
    const out: string[] = [];
    const following = cli(["events", "--follow", "--json"], { signal: ac.signal, stdout: out });
    await until("the third event", () => out.length === 3, 5000);
    await cli(["canary", "weight", "16"]);
    await until("the fourth event", () => out.length === 4, 5000);
    ac.abort();
    expect((await following).code).toBe(0);
    expect((JSON.parse(out[3]) as { detail: Record<string, string> }).detail.newWeight).toBe("16");
  });
});

describe("exit codes tell the truth about what changed", () => {
  test.each([
    ["a string", (r: Redis) => r.set(keys.events, "junk"), /^aviary: Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream; repaired \(moved to aviary:corrupt:events:\d{13}\)$/],
    ["a stream at the last ID", (r: Redis) => r.xadd(keys.events, "18446744073709551615-18446744073709551615", "kind", "junk"), /^aviary: Redis key aviary:events is a stream of 1 entry, expected a stream below the last possible ID \(18446744073709551615-18446744073709551615\); repaired \(moved to aviary:corrupt:events:\d{13}\)$/],
  ])("over %s at aviary:events, canary weight exits 0, took effect and says what it repaired", async (_label, poison, note) => {
    await poison(redis);
    const res = await cli(["canary", "weight", "20"]);
    expect(res.code).toBe(0);
    expect(res.stderr.trim()).toMatch(note);
    expect(res.stdout).toMatch(/^canary weight 0 -> 20 \(event \d+-\d+\)\n$/);
    expect((await redis.hgetall(keys.routing)).canaryWeight).toBe("20");
    expect(await redis.xlen(keys.events)).toBe(1);
  });

  test("a wrong-type routing key: exit 3 naming the key, nothing changed", async () => {
    await redis.set(keys.routing, "junk");
    const res = await cli(["canary", "weight", "20"]);
    expect(res.code).toBe(3);
    expect(res.stderr).toBe('aviary: Redis key aviary:routing is a string of 4 bytes starting "junk", expected a hash\n');
    expect(await redis.keys("*")).toEqual([keys.routing]);
    expect(await redis.get(keys.routing)).toBe("junk");
  });

  test("canary off over a wrong-type routing key still turns the canary off (exit 0)", async () => {
    await redis.set(keys.routing, "junk");
    const res = await cli(["canary", "off", "--reason", "alarm"]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/^aviary: Redis key aviary:routing is a string of 4 bytes starting "junk", expected a hash; repaired \(moved to aviary:corrupt:routing:\d{13}\)\naviary: Redis key aviary:routing held no weight to keep; canary off at weight 0\n$/);
    expect(await redis.hgetall(keys.routing)).toMatchObject({ canaryEnabled: "false", canaryWeight: "0" });
  });

  test("canary on over a garbage weight: exit 3, names key, value and fix; nothing changed", async () => {
    await redis.hset(keys.routing, { canaryWeight: "banana", canaryEnabled: "false" });
    const before = await snapshot();
    const res = await cli(["canary", "on"]);
    expect(res.code).toBe(3);
    expect(res.stdout).toBe("");
    expect(res.stderr).toBe(
      'aviary: Redis key aviary:routing field canaryWeight is a string of 6 bytes starting "banana", expected an integer 0..100; nothing changed: set a weight first (aviary canary weight <N>), which turns the canary on\n',
    );
    expect(await snapshot()).toEqual(before);
  });

  test("flags set over a poisoned stream exits 0 and reports the repair", async () => {
    await redis.set(keys.events, "junk");
    const res = await cli(["flags", "set", "f1", "on"]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/^aviary: Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream; repaired/);
    expect(await redis.exists(keys.flag("f1"))).toBe(1);
  });

  test("events over a wrong-type stream names the key", async () => {
    await redis.set(keys.events, "junk");
    const res = await cli(["events"]);
    expect(res.code).toBe(3);
    expect(res.stderr).toBe('aviary: Redis key aviary:events is a string of 4 bytes starting "junk", expected a stream\n');
  });
});

