// `aviary status --watch` against a real redis-server: in process (TTY and pipe output, JSON)
// and as the real entry point (bin/aviary), which must end with 0 on SIGINT/SIGTERM and on a closed pipe.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { run } from "../../../cli/main";
import { CLEAR_SCREEN } from "../../../cli/watch";
import { setCanaryWeight } from "../../../state/routing";
import { useRedis } from "../../support/useRedis";
import { until } from "../../../harness/until";

const ENTRY = path.resolve(REPO_ROOT, "bin", "aviary");
// Real processes on shared cores: generous budgets; the assertions are about behaviour, not speed.
jest.setTimeout(60_000);

// Built up front, so no test sees the entry's "building" line on stderr.
beforeAll(() => new Promise((resolve, reject) => execFile(path.resolve(REPO_ROOT, "bin", "build-cli"), { timeout: 60_000 }, (err) => (err ? reject(err) : resolve(undefined)))));

const db = useRedis();


/** Starts `status --watch …` in process; `stop()` aborts it (as Ctrl-C does) and resolves to the exit code. */
function watchInProcess(args: string[], isTTY: boolean): { out: string[]; err: string[]; stop: () => Promise<number> } {
  const out: string[] = [];
  const err: string[] = [];
  const ac = new AbortController();
  const done = run(["status", "--watch", "--interval", "1", ...args], { stdout: { write: (s: string) => out.push(s), isTTY }, stderr: { write: (s: string) => err.push(s) } }, { env: { REDIS_URL: db.server.url }, signal: ac.signal });
  return {
    out,
    err,
    stop: () => {
      ac.abort();
      return done;
    },
  };
}

test("a pipe gets a new block per refresh, and a change in Redis between refreshes shows", async () => {
  await setCanaryWeight(db.redis, 10, { by: "test" });
  const w = watchInProcess([], false);
  await until("the first refresh", () => w.out.length >= 1, 20_000);
  expect(w.out[0]).toMatch(/^every 1s: aviary status {2}\d{4}-\d\d-\d\dT/);
  expect(w.out[0]).toContain("canary: enabled, weight 10%");
  await setCanaryWeight(db.redis, 35, { by: "test" });
  await until("a refresh showing weight 35%", () => w.out.some((b) => b.includes("weight 35%")), 20_000);
  expect(await w.stop()).toBe(0);
  expect(w.out.join("")).not.toContain(CLEAR_SCREEN);
  expect(w.out.every((b) => b.startsWith("every 1s: aviary status"))).toBe(true);
  expect(w.err).toEqual([]);
});

test("a terminal is cleared and redrawn on every refresh", async () => {
  await setCanaryWeight(db.redis, 10, { by: "test" });
  const w = watchInProcess([], true);
  await until("a second refresh", () => w.out.length >= 2, 20_000);
  expect(await w.stop()).toBe(0);
  expect(w.out.every((b) => b.startsWith(`${CLEAR_SCREEN}every 1s: aviary status`))).toBe(true);
});

test("--json prints one JSON object per line per refresh", async () => {
  await setCanaryWeight(db.redis, 10, { by: "test" });
  const w = watchInProcess(["--json"], true);
  await until("the first refresh", () => w.out.length >= 1, 20_000);
  await setCanaryWeight(db.redis, 20, { by: "test" });
  await until("a JSON line with canaryWeight 20", () => w.out.some((l) => l.includes('"canaryWeight":20')), 20_000);
  expect(await w.stop()).toBe(0);
  const lines = w.out.join("").trimEnd().split("\n");
  const reports = lines.map((l) => JSON.parse(l) as { at: string; routing: { canaryWeight: number } });
  expect(reports[0].routing.canaryWeight).toBe(10);
  expect(reports.at(-1)?.routing.canaryWeight).toBe(20);
  expect(reports.every((r) => !Number.isNaN(Date.parse(r.at)))).toBe(true);
});

/** bin/aviary status --watch as a child, its output collected. */
function watchProcess(args: string[]): { child: ReturnType<typeof spawn>; stdout: () => string; stderr: () => string; exited: Promise<[number | null, NodeJS.Signals | null]> } {
  const child = spawn(ENTRY, ["status", "--watch", "--interval", "1", ...args], { env: { ...process.env, REDIS_URL: db.server.url }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
  return { child, stdout: () => out, stderr: () => err, exited };
}

test.each(["SIGINT", "SIGTERM"] as const)("the entry point ends with 0 on %s after two refreshes", async (sig) => {
  await setCanaryWeight(db.redis, 10, { by: "test" });
  const w = watchProcess([]);
  await until("two refresh blocks", () => w.stdout().split("every 1s: aviary status").length - 1 >= 2, 40_000);
  w.child.kill(sig);
  expect(await w.exited).toEqual([0, null]);
  expect(w.stderr()).toBe("");
});

test("the entry point ends with 0, quietly, when its reader closes the pipe", async () => {
  const w = watchProcess(["--json"]);
  w.child.stdout?.once("data", () => w.child.stdout?.destroy());
  // The next refresh writes into the closed pipe (EPIPE).
  expect(await w.exited).toEqual([0, null]);
  expect(w.stderr()).toBe("");
});
