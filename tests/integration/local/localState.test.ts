// Flags, weight and the event log survive a restart of the local stack (Redis's data kept in the
// state dir, `.aviary/` for `npm start`); the stack file's weight is applied only when it changed
// since the last start; `fresh` starts from defaults; stop() leaves nothing running or restarting.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";
import { run } from "../../../cli/main";
import { descendants } from "../../../harness/procStat";
import { startLocalStack, type LocalStack } from "../../../local/stack";
import { readEvents } from "../../../state/events";
import { readFlag } from "../../../state/flags";
import { readRouting } from "../../../state/routing";
import { tempDir } from "../../support/tempDir";
import { testLogger } from "../../support/testLogger";

const base = tempDir("aviary-state-");
// A checkout of its own: the test edits its Pulumi.canary.yaml between starts.
const repoDir = path.join(base, "repo");
const stateDir = path.join(base, "state");
const logger = testLogger("aviary-state-log-");
const stackProcesses = (): string[] => descendants().map((p) => p.cmd).filter((c) => /redis-server|haproxy|app\.js|agent\.js/.test(c));

fs.mkdirSync(repoDir);
for (const f of ["Pulumi.prod.yaml", "Pulumi.canary.yaml"]) fs.copyFileSync(path.resolve(REPO_ROOT, f), path.join(repoDir, f));
const setConfigWeight = (w: number): void => {
  const file = path.join(repoDir, "Pulumi.canary.yaml");
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/aviary:canaryWeight: \d+/, `aviary:canaryWeight: ${w}`));
};

const start = (fresh = false): Promise<LocalStack> =>
  startLocalStack({ repoDir, runDir: path.join(base, "run"), stateDir, fresh, proxyPort: 0, adminPort: 0, periodFactor: 10, logger });

async function cli(stack: LocalStack, ...argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const write = (s: string): void => void (out += s);
  const code = await run(argv, { stdout: { write }, stderr: { write } }, { env: { ...process.env, REDIS_URL: stack.redisUrl } });
  return { code, out };
}

const eventIds = async (stack: LocalStack): Promise<string[]> => (await readEvents(stack.redis, { count: 10_000 })).events.map((e) => e.id);
const hiddenOn = async (stack: LocalStack): Promise<boolean | undefined> => {
  const f = (await readFlag(stack.redis, "hiddenfeature")).flag;
  return f === undefined ? undefined : f.variants[f.defaultVariant] === true;
};

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

test("flags, weight and events survive a restart; the stack file's weight wins only once it changes; fresh resets", async () => {
  stack = await start();
  const password = new URL(stack.redisUrl).password;
  expect(fs.statSync(path.join(stateDir, "redis-password")).mode & 0o777).toBe(0o600);
  expect((await cli(stack, "flags", "set", "hiddenfeature", "on")).code).toBe(0);
  expect((await cli(stack, "canary", "weight", "40")).code).toBe(0);
  const before = await eventIds(stack);
  await stack.stop();
  stack = undefined;
  // Stopped means stopped: nothing comes back after the first restart delay (RestartSec=2).
  await new Promise((r) => setTimeout(r, 3000));
  expect(stackProcesses()).toEqual([]);

  // Same stack file: the CLI's weight and flag are kept, the earlier events are still there.
  stack = await start();
  expect(new URL(stack.redisUrl).password).toBe(password);
  expect((await readRouting(stack.redis)).state?.canaryWeight).toBe(40);
  expect(await hiddenOn(stack)).toBe(true);
  expect(await eventIds(stack)).toEqual(expect.arrayContaining(before));
  expect((await cli(stack, "status")).out).toMatch(/40\s*%/);
  await stack.stop();

  // The stack file's weight changed since: applied, as `pulumi up` would; the flag is still kept.
  setConfigWeight(30);
  stack = await start();
  expect((await readRouting(stack.redis)).state?.canaryWeight).toBe(30);
  expect(await hiddenOn(stack)).toBe(true);
  await stack.stop();

  // Fresh: the starting flags, the stack file's weight, none of the earlier events.
  stack = await start(true);
  expect((await readRouting(stack.redis)).state?.canaryWeight).toBe(30);
  expect(await hiddenOn(stack)).toBe(false);
  const after = await eventIds(stack);
  expect(after.filter((id) => before.includes(id))).toEqual([]);
  expect(new URL(stack.redisUrl).password).toBe(password);
}, 300_000);
