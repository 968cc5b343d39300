// `aviary status` and the local dashboard's /api/status degrade per section: a key of the wrong
// type breaks only its section (named, with its type), the rest still answers; only an
// unreachable Redis fails the whole report (CLI exit 1, HTTP 503), naming host:port.
import { REPO_ROOT } from "../../support/repoRoot";
import * as path from "node:path";
import type Redis from "ioredis";
import { run } from "../../../cli/main";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import { keys } from "../../../state/keys";
import { registerBackend } from "../../../state/registry";
import { setCanaryWeight } from "../../../state/routing";
import { writeRollout } from "../../../state/rollout";
import { rolloutState } from "../../support/rolloutFixtures";
import { startRedisServer } from "../../../harness/redisServer";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";
import { useRedis } from "../../support/useRedis";

interface Health {
  ok: boolean;
  problems: string[];
}

async function cli(url: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } }, { env: { REDIS_URL: url } });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("aviary status", () => {
  const db = useRedis();
  beforeEach(async () => {
    await setCanaryWeight(db.redis, 20, { by: "test" });
    await registerBackend(db.redis, { id: "p1", role: "prod", address: "10.0.0.1:8080", version: "v1", ttlSeconds: 60 });
    await registerBackend(db.redis, { id: "c1", role: "canary", address: "10.0.0.2:8080", version: "v2", ttlSeconds: 60 });
  });

  test("aviary:routing set to a string: routing is broken (type named), backends still listed, exit 0", async () => {
    await db.redis.del(keys.routing);
    await db.redis.set(keys.routing, "garbage");
    const text = await cli(db.server.url, "status");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('canary: unknown (routing state unreadable: Redis key aviary:routing is a string of 7 bytes starting "garbage", expected a hash)');
    expect(text.stdout).toContain("prod backends (1):\n  p1  10.0.0.1:8080  v1");
    expect(text.stdout).toContain("canary backends (1):\n  c1  10.0.0.2:8080  v2");
    const json = await cli(db.server.url, "status", "--json");
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as { sections: Record<string, Health>; routing: unknown; backends: { prod: { id: string }[] } };
    expect(s.sections.routing).toEqual({ ok: false, problems: ['Redis key aviary:routing is a string of 7 bytes starting "garbage", expected a hash'] });
    expect(s.sections.backends).toEqual({ ok: true, problems: [] });
    expect(s.routing).toBeNull();
    expect(s.backends.prod.map((b) => b.id)).toEqual(["p1"]);
  });

  test("aviary:backends holding a list, or one backend hash holding a 1 MB string: backends broken with the key and a short prefix, routing still shown", async () => {
    await db.redis.sadd(keys.backends, "junk");
    await db.redis.set(keys.backend("junk"), "x".repeat(1 << 20));
    const partial = await cli(db.server.url, "status");
    expect(partial.code).toBe(0);
    expect(partial.stdout).toContain("canary: enabled, weight 20%");
    expect(partial.stdout).toContain(`backends: broken (Redis key aviary:backend:junk is a string of 1048576 bytes starting "${"x".repeat(40)}", expected a hash)`);
    expect(partial.stdout).toContain("prod backends (1):\n  p1");
    expect(partial.stdout.length).toBeLessThan(2000);

    await db.redis.del(keys.backends);
    await db.redis.rpush(keys.backends, "p1");
    const json = await cli(db.server.url, "status", "--json");
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as { sections: Record<string, Health>; routing: { canaryWeight: number } };
    expect(s.sections.backends).toEqual({ ok: false, problems: ['Redis key aviary:backends is a list of 1 item starting "p1", expected a set'] });
    expect(s.sections.routing.ok).toBe(true);
    expect(s.routing.canaryWeight).toBe(20);
  });

  test("a rollout is shown with its step; garbage in aviary:rollout breaks only its section", async () => {
    await writeRollout(db.redis, rolloutState({ step: 1, reason: "step 1 passed" }), undefined, { by: "controller", reason: "next", expectRevision: null });
    const shown = await cli(db.server.url, "status");
    expect(shown.stdout).toContain("rollout: 2.0.0 progressing, step 2/3 at weight 25% (step 1 passed)\n");
    await db.redis.set(keys.rollout, "{junk");
    const broken = await cli(db.server.url, "status");
    expect(broken.code).toBe(0);
    expect(broken.stdout).toContain('rollout: unknown (rollout state unreadable: aviary:rollout: not JSON (5 characters starting "{junk"))');
    expect(broken.stdout).toContain("canary: enabled, weight 20%");
    const json = JSON.parse((await cli(db.server.url, "status", "--json")).stdout) as { sections: Record<string, Health>; rollout: unknown };
    expect(json.sections.rollout).toEqual({ ok: false, problems: ['aviary:rollout: not JSON (5 characters starting "{junk")'] });
    expect(json.sections.routing).toEqual({ ok: true, problems: [] });
    expect(json.rollout).toBeNull();
  });

  test("Redis stopped: exit 1 with one line naming host:port, without the password", async () => {
    const gone = await startRedisServer();
    await gone.stop();
    const res = await cli(gone.url, "status");
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`aviary: cannot reach Redis at 127.0.0.1:${gone.port} (connection refused)\n`);
    expect(res.stderr).not.toContain(gone.password);
  });
});

describe("local dashboard /api/status", () => {
  const repoDir = path.resolve(REPO_ROOT);
  const runDir = tempDir("aviary-sections-");
  const logger = testLogger("aviary-sections-log-");
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function status(): Promise<{ code: number; body: Record<string, unknown> & { sections?: Record<string, Health> } }> {
    const res = await fetch(`${stack.adminUrl}/api/status`);
    return { code: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  // Each case corrupts one key family (leaving live keys alone where it can) and puts it back.
  const cases: { family: string; key: string; corrupt: (r: Redis) => Promise<unknown>; problem: string; empty: unknown }[] = [
    { family: "routing", key: keys.routing, corrupt: (r) => r.set(keys.routing, "garbage"), problem: 'Redis key aviary:routing is a string of 7 bytes starting "garbage", expected a hash', empty: null },
    { family: "backends", key: keys.backends, corrupt: (r) => r.set(keys.backends, "garbage"), problem: 'Redis key aviary:backends is a string of 7 bytes starting "garbage", expected a set', empty: [] },
    { family: "backends", key: keys.backend("ghost"), corrupt: (r) => r.sadd(keys.backends, "ghost").then(() => r.rpush(keys.backend("ghost"), "a")), problem: 'Redis key aviary:backend:ghost is a list of 1 item starting "a", expected a hash', empty: undefined },
    { family: "flags", key: keys.flags, corrupt: (r) => r.hset(keys.flags, "a", "b"), problem: 'Redis key aviary:flags is a hash of 1 field starting "a", expected a set', empty: [] },
    { family: "flags", key: keys.flag("junk"), corrupt: (r) => r.sadd(keys.flags, "junk").then(() => r.rpush(keys.flag("junk"), "a")), problem: 'Redis key aviary:flag:junk is a list of 1 item starting "a", expected a string', empty: undefined },
    { family: "events", key: keys.events, corrupt: (r) => r.set(keys.events, "y".repeat(1 << 20)), problem: `Redis key aviary:events is a string of 1048576 bytes starting "${"y".repeat(40)}", expected a stream`, empty: [] },
  ];

  test.each(cases)("$key of the wrong type: only $family is broken, named; the others answer; HTTP 200", async ({ family, key, corrupt, problem, empty }) => {
    const before = await status();
    expect(before.code).toBe(200);
    const saved = new Map<string, Buffer | null>();
    for (const k of [keys.routing, keys.backends, keys.flags, keys.events]) saved.set(k, await stack.redis.dumpBuffer(k));
    await stack.redis.del(key);
    await corrupt(stack.redis);
    try {
      const after = await status();
      expect(after.code).toBe(200);
      const sections = after.body.sections!;
      expect(sections[family]).toEqual({ ok: false, problems: [problem] });
      for (const [name, health] of Object.entries(sections)) if (name !== family) expect([name, health]).toEqual([name, { ok: true, problems: [] }]);
      if (empty !== undefined) expect(after.body[family]).toEqual(empty);
      // The sections that are fine show what they showed before.
      if (family !== "routing") expect(after.body.routing).toEqual(before.body.routing);
      if (family !== "flags") expect(after.body.flags).toEqual(before.body.flags);
      if (family !== "backends") expect((after.body.backends as { id: string }[]).map((b) => b.id)).toEqual((before.body.backends as { id: string }[]).map((b) => b.id));
      if (family === "backends" && empty === undefined) expect(after.body.backends).toEqual(before.body.backends);
    } finally {
      await stack.redis.del(key, keys.backend("ghost"), keys.flag("junk"));
      await stack.redis.srem(keys.backends, "ghost").catch(() => undefined);
      await stack.redis.srem(keys.flags, "junk").catch(() => undefined);
      for (const [k, dump] of saved) if (dump) await stack.redis.restore(k, 0, dump, "REPLACE");
    }
  });

  test("Redis stopped: 503 naming host:port, without the password", async () => {
    await stack.redisServer.kill();
    try {
      const res = await status();
      expect(res.code).toBe(503);
      expect(res.body.error).toBe(`cannot reach Redis at 127.0.0.1:${stack.redisServer.port} (connection refused)`);
      expect(JSON.stringify(res.body)).not.toContain(stack.redisServer.password);
    } finally {
      await stack.redisServer.restart();
    }
  });
});
