// `aviary rollout …` against a real redis-server: status reads the rollout and the proxies' windows
// (summed and judged live), --watch redraws; the commands go through the controller's rollout path,
// and one the rollout's status does not allow is refused with its reason, exit 2, nothing written.
import { run } from "../../../cli/main";
import { CLEAR_SCREEN } from "../../../cli/watch";
import type { RolloutState } from "../../../core/rollout/model";
import { until } from "../../../harness/until";
import { keys } from "../../../state/keys";
import { readRollout, recordWindow, writeRollout } from "../../../state/rollout";
import { readRouting } from "../../../state/routing";
import { failing, roleWindow, rolloutState, window } from "../../support/rolloutFixtures";
import { useRedis } from "../../support/useRedis";

// A real redis-server on shared cores: generous budgets; the assertions are about behaviour.
jest.setTimeout(60_000);

const db = useRedis();

interface Result { code: number; stdout: string; stderr: string }

async function cli(argv: string[], opts: { signal?: AbortSignal; stdout?: string[]; isTTY?: boolean } = {}): Promise<Result> {
  const out = opts.stdout ?? [];
  const err: string[] = [];
  const code = await run(argv, { stdout: { write: (s: string) => out.push(s), isTTY: opts.isTTY }, stderr: { write: (s: string) => err.push(s) } }, { env: { REDIS_URL: db.server.url }, signal: opts.signal });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

/** A rollout stored as the controller writes it (with the canary at the step's weight), started `agoMs` ago. */
async function stored(over: Partial<RolloutState> = {}, agoMs = 30_000): Promise<RolloutState> {
  const start = new Date(Date.now() - agoMs).toISOString();
  const state = rolloutState({ id: `2.0.0@${start}`, stepStartedAt: start, updatedAt: start, ...over });
  await writeRollout(db.redis, state, { weight: state.plan.steps[state.step].weight, enabled: state.status !== "aborted" }, { by: "controller", reason: "test", expectRevision: null });
  return (await readRollout(db.redis)).state!;
}

const rows = (text: string): string[] => text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());

describe("rollout status", () => {
  test("no rollout", async () => {
    expect(await cli(["rollout", "status"])).toEqual({ code: 0, stdout: "no rollout (the canary keeps its fixed aviary:canaryWeight)\n", stderr: "" });
  });

  test("steps, the current step's time left, and the live window summed over every proxy and judged", async () => {
    const r = await stored({}, 30_000);
    await recordWindow(db.redis, r.id, 0, "proxy-a", window(roleWindow(600, 12), roleWindow(6000, 3)));
    await recordWindow(db.redis, r.id, 0, "proxy-b", window(roleWindow(400, 8), roleWindow(4000, 2)));
    const res = await cli(["rollout", "status"]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe("");
    const first = res.stdout.split("\n")[0];
    expect(first).toMatch(/^rollout 2\.0\.0@\S+ \(app 2\.0\.0\): progressing, step 1 of 3 at weight 5 %, 1m\d\ds left$/);
    const lines = rows(res.stdout);
    expect(lines.find((l) => l.startsWith("> 1 5 % 2m00s running, "))).toBeDefined();
    expect(lines).toContain("2 25 % 5m00s -");
    expect(res.stdout).toMatch(/live window, step 1 \(2 proxies\): (pass|fail|inconclusive)/);
    // 20 of 1,000 canary answers against 5 of 10,000 production ones: the two proxies' counts added.
    expect(lines.find((l) => l.startsWith("5xx "))).toMatch(/^5xx 20\/1000 \(2\.00 %\) 5\/10000 \(0\.05 %\) \+0\.5 points \(now \+1\.95\) (fail|inconclusive)$/);
    expect(lines.find((l) => l.startsWith("p99 "))).toMatch(/^p99 0–5 ms \(1000 timed\) 0–5 ms \(10000 timed\) /);
  });

  test("--json carries the rollout and the live judgement's numbers", async () => {
    const r = await stored();
    await recordWindow(db.redis, r.id, 0, "proxy-a", window(roleWindow(600, 0), roleWindow(6000, 0)));
    const res = await cli(["rollout", "status", "--json"]);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.rollout).toMatchObject({ id: r.id, status: "progressing", step: 0 });
    expect(report.live).toMatchObject({ step: 0, proxies: 1, judgement: { errorRate: { canary: { requests: 600, errors5xx: 0 }, production: { requests: 6000, errors5xx: 0 } } } });
  });

  test("an aborted rollout shows the verdict that aborted it, with its numbers", async () => {
    const fail = failing();
    await stored({ status: "aborted", results: [fail], reason: fail.judgement.errorRate.reason });
    const res = await cli(["rollout", "status"]);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain("live window");
    expect(rows(res.stdout)).toContain("5xx 100/1000 (10.00 %) 0/5000 (0.00 %) +0.5 points (now +10.00) fail");
  });

  test("garbage in aviary:rollout is shown and warned about, exit 0", async () => {
    await db.redis.set(keys.rollout, "{junk");
    const res = await cli(["rollout", "status"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^rollout state unreadable, nothing is acted on: aviary:rollout: not JSON/);
    expect(res.stderr).toMatch(/^aviary: warning: aviary:rollout: not JSON/);
  });

  test("--watch redraws a terminal at every refresh and shows a change made in between", async () => {
    const r = await stored();
    const out: string[] = [];
    const ac = new AbortController();
    const done = cli(["rollout", "status", "--watch", "--interval", "1"], { signal: ac.signal, stdout: out, isTTY: true });
    await until("the first refresh", () => out.length >= 1, 20_000);
    expect(out[0]).toContain("live window, step 1: no proxy has recorded one yet");
    await recordWindow(db.redis, r.id, 0, "proxy-a", window(roleWindow(300, 0), roleWindow(3000, 0)));
    await until("a refresh with the window", () => out.some((b) => b.includes("live window, step 1 (1 proxy)")), 20_000);
    ac.abort();
    expect((await done).code).toBe(0);
    expect(out.every((b) => b.startsWith(`${CLEAR_SCREEN}every 1s: aviary rollout status  `))).toBe(true);
  });

  test("usage errors exit 2 before Redis is read", async () => {
    expect((await cli(["rollout", "status", "--interval", "5"])).code).toBe(2);
    expect((await cli(["rollout", "abort"])).code).toBe(2);
    const empty = await cli(["rollout", "abort", "--reason", " "]);
    expect(empty).toMatchObject({ code: 2, stderr: "aviary: --reason must not be empty\n" });
  });
});

describe("rollout commands", () => {
  test("pause and abort --reason: one write each through the controller, under the CLI user's name", async () => {
    await stored();
    const pause = await cli(["rollout", "pause", "--reason", "watching a dashboard"]);
    expect(pause).toMatchObject({ code: 0, stderr: "" });
    expect(pause.stdout).toMatch(/paused/);
    expect((await readRollout(db.redis)).state).toMatchObject({ status: "paused", reason: expect.stringContaining("watching a dashboard"), updatedBy: expect.stringMatching(/^cli:/) });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: true, canaryWeight: 5 });

    const abort = await cli(["rollout", "abort", "--reason", "checkout errors"]);
    expect(abort.code).toBe(0);
    expect(abort.stderr).toMatch(/^aviary: not sent to subscribers \(the CLI publishes nothing\): Aviary: /);
    expect((await readRollout(db.redis)).state).toMatchObject({ status: "aborted", reason: expect.stringContaining("checkout errors") });
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
    const status = await cli(["rollout", "status"]);
    expect(status.stdout.split("\n")[0]).toMatch(/: aborted, step 1 of 3 at weight 5 %$/);
  });

  test.each([
    ["resume", { status: "paused" as const }, ["resume"], { status: "progressing" }],
    ["retry", { status: "aborted" as const }, ["retry"], { status: "progressing", step: 0 }],
    ["promote", { status: "promotable" as const, step: 2 }, ["promote"], { status: "promotable", promoteRequested: { by: expect.any(String) } }],
  ])("%s from the CLI is written at once; what needs the controller (a wake-up, the promotion) is left to its next tick", async (_what, over, argv, want) => {
    await stored(over);
    const res = await cli(["rollout", ...argv]);
    expect(res.stderr).not.toMatch(/refused/);
    expect(res.code).toBe(0);
    expect((await readRollout(db.redis)).state).toMatchObject(want);
  });

  test.each([
    ["promote while aborted", { status: "aborted" as const }, ["promote"], /rollout promote refused: rollout \S+ is aborted/],
    ["resume while progressing", {}, ["resume"], /rollout resume refused: rollout \S+ is progressing/],
    ["retry while progressing", {}, ["retry"], /rollout retry refused/],
    ["abort once promoted", { status: "promoted" as const }, ["abort", "--reason", "late"], /rollout abort refused: rollout \S+ is promoted/],
  ])("%s is refused: the reason, exit 2, nothing written", async (_what, over, argv, reason) => {
    await stored(over);
    const before = { rollout: await db.redis.get(keys.rollout), routing: await db.redis.hgetall(keys.routing), events: await db.redis.xlen(keys.events) };
    const res = await cli(["rollout", ...argv]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(reason);
    expect({ rollout: await db.redis.get(keys.rollout), routing: await db.redis.hgetall(keys.routing), events: await db.redis.xlen(keys.events) }).toEqual(before);
  });

  test("garbage in aviary:rollout: abort still turns the canary off; any other command is refused, exit 2", async () => {
    await stored();
    await db.redis.set(keys.rollout, "{junk");
    expect((await cli(["rollout", "pause"])).code).toBe(2);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: true });
    const abort = await cli(["rollout", "abort", "--reason", "bad state and bad canary"]);
    expect(abort.code).toBe(0);
    expect(abort.stdout).toMatch(/canary disabled/);
    expect((await readRouting(db.redis)).state).toMatchObject({ canaryEnabled: false });
  });

  test("a command with no rollout stored is refused, exit 2", async () => {
    const res = await cli(["rollout", "pause"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/there is no rollout/);
  });
});
