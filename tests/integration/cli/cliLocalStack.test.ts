// Without REDIS_URL the CLI uses the local stack of the checkout that holds the working
// directory, from any directory inside it; otherwise it says in one line (exit 2) what is missing.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { findLocalStack, resolveRedisUrl } from "../../../cli/localStack";
import { run } from "../../../cli/main";
import { LOCAL_STATE_FILE } from "../../../discovery/localStateFile";
import { setCanaryWeight } from "../../../state/routing";
import { useRedis } from "../../support/useRedis";
import { tempDir } from "../../support/tempDir";

const ENTRY = path.resolve(REPO_ROOT, "bin", "aviary");
const DEAD_PID = 2 ** 22 + 1; // above Linux's pid_max: never a live process
jest.setTimeout(60_000);

const db = useRedis();

const tmp = tempDir("aviary-cli-find-");

/** A directory laid out as an Aviary checkout; `stack` writes its .aviary/local.json. */
function checkout(rel: string, stack?: { pid: number; redisUrl: string }): string {
  const dir = path.join(tmp, rel);
  fs.mkdirSync(path.join(dir, "components", "deep"), { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "aviary" }));
  if (stack) {
    fs.mkdirSync(path.join(dir, ".aviary"), { recursive: true });
    fs.writeFileSync(path.join(dir, LOCAL_STATE_FILE), JSON.stringify({ ...stack, proxyUrl: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:2" }));
  }
  return dir;
}

describe("findLocalStack walks up from the working directory", () => {
  const running = checkout("running", { pid: process.pid, redisUrl: "redis://:pw@127.0.0.1:7001" });
  const stale = checkout("stale", { pid: DEAD_PID, redisUrl: "redis://:pw@127.0.0.1:7002" });
  // A checkout without a running stack, inside the directory of one with a running stack.
  const inner = checkout("running/wt/inner");
  const outside = path.join(tmp, "elsewhere");
  fs.mkdirSync(outside);

  test.each([
    ["the checkout root", running, { kind: "running", dir: running, redisUrl: "redis://:pw@127.0.0.1:7001" }],
    ["a subdirectory", path.join(running, "components"), { kind: "running", dir: running }],
    ["two levels down", path.join(running, "components", "deep"), { kind: "running", dir: running }],
    ["a checkout whose runner is gone", path.join(stale, "components"), { kind: "stale", dir: stale }],
    ["a stopped checkout inside a running one: the inner one wins", path.join(inner, "components"), { kind: "stopped", dir: inner }],
    ["a directory in no checkout", outside, { kind: "outside" }],
  ])("from %s", (_label, cwd, expected) => {
    expect(findLocalStack(cwd)).toMatchObject(expected);
  });

  test("REDIS_URL, when set, wins over the local stack", () => {
    expect(resolveRedisUrl({ REDIS_URL: "redis://h:1" }, running)).toBe("redis://h:1");
    expect(resolveRedisUrl({}, path.join(running, "components"))).toBe("redis://:pw@127.0.0.1:7001");
  });

  test.each([
    ["stopped", inner, "aviary: REDIS_URL is not set and no local stack is running in this checkout (start one with npm start, or export REDIS_URL=redis://:PASSWORD@HOST:6379)\n"],
    ["stale", stale, `aviary: REDIS_URL is not set and the local stack in this checkout is not running (${LOCAL_STATE_FILE} is stale, its runner is gone: start it with npm start, or export REDIS_URL=redis://:PASSWORD@HOST:6379)\n`],
    ["outside", outside, `aviary: REDIS_URL is not set and ${outside} is not inside an Aviary checkout (run aviary inside the checkout where npm start runs, or export REDIS_URL=redis://:PASSWORD@HOST:6379)\n`],
  ])("no Redis to use (%s): one line naming local mode, exit 2", async (_label, cwd, message) => {
    const err: string[] = [];
    const code = await run(["status"], { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) } }, { env: {}, cwd });
    expect({ code, stderr: err.join("") }).toEqual({ code: 2, stderr: message });
  });
});

test("the entry point run from components/ of a checkout finds its running stack", async () => {
  await setCanaryWeight(db.redis, 42, { by: "test" });
  const dir = checkout("live", { pid: process.pid, redisUrl: db.server.url });
  const env = { ...process.env };
  delete env.REDIS_URL;
  const { stdout } = await promisify(execFile)(ENTRY, ["status"], { cwd: path.join(dir, "components"), env, timeout: 30_000 });
  expect(stdout).toContain("canary: enabled, weight 42%");
});
