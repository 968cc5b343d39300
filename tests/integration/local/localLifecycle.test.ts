// `npm start` as a supervisor, with real processes: the runner is bundled as scripts/start.sh
// bundles it and run as `node <checkout>/dist/local.js` in temporary checkouts (symlinks to this
// one), on free loopback ports. The tests share stacks and run in order.
import { REPO_ROOT } from "../../support/repoRoot";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { build } from "esbuild";
import { parseShowStat } from "../../../agent/metrics";
import { runtimeCommand } from "../../../agent/runtimeApi";
import { run } from "../../../cli/main";
import { slotRole } from "../../../core/routing/slots";
import { freePort } from "../../../harness/freePort";
import { descendants, statFields } from "../../../harness/procStat";
import { until } from "../../../harness/until";
import { tempDir } from "../../support/tempDir";

const ROOT = path.resolve(REPO_ROOT);
const BANNER = "Aviary local stack is up.";

interface Runner {
  proc: ChildProcess;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
}

const runners: Runner[] = [];
const strays: number[] = [];
const checkouts: string[] = [];

/** A checkout: every top-level entry of this one linked in, and the runner bundle in dist/. */
async function checkout(): Promise<string> {
  const dir = tempDir("aviary-life-");
  checkouts.push(dir);
  for (const e of fs.readdirSync(ROOT)) if (!e.startsWith(".") && e !== "dist") fs.symlinkSync(path.join(ROOT, e), path.join(dir, e));
  await build({ entryPoints: [path.join(ROOT, "local", "main.ts")], bundle: true, platform: "node", target: "node24", packages: "external", outfile: path.join(dir, "dist", "local.js"), logLevel: "warning" });
  return dir;
}

function start(dir: string, proxyPort: number, adminPort: number): Runner {
  const proc = spawn(process.execPath, [path.join(dir, "dist", "local.js")], {
    cwd: dir,
    env: { ...process.env, AVIARY_PORT: String(proxyPort), AVIARY_ADMIN_PORT: String(adminPort) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const r = { proc, out: () => out, err: () => err, exited };
  runners.push(r);
  return r;
}

async function up(r: Runner): Promise<void> {
  await until("the stack is up", async () => {
    if (r.proc.exitCode !== null) throw new Error(`runner exited ${r.proc.exitCode}: ${r.err()}`);
    return r.out().includes(BANNER);
  }, 150_000);
}

const alive = (pid: number): boolean => {
  try {
    return statFields(pid)[0] !== "Z";
  } catch {
    return false;
  }
};

const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });

const localState = (dir: string): { pid: number; redisUrl: string; proxyUrl: string; adminUrl: string } => JSON.parse(fs.readFileSync(path.join(dir, ".aviary", "local.json"), "utf8"));

const filesUnder = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() || e.isSocket()).map((e) => path.join(e.parentPath, e.name));

/** The weights HAProxy gives its serving slots, e.g. "prod-1=3,…,canary-1=1". */
async function slotWeights(socket: string): Promise<string> {
  const rows = parseShowStat(await runtimeCommand(socket, "show stat"));
  return rows.filter((r) => slotRole(r.svname) !== undefined && r.status !== "MAINT").map((r) => `${r.svname}=${r.weight}`).join(",");
}

let a: string;
let aPorts: [number, number];
let first: Runner;

beforeAll(async () => {
  a = await checkout();
  aPorts = [await freePort(), await freePort()];
  first = start(a, ...aPorts);
  await up(first);
}, 200_000);

afterAll(async () => {
  for (const r of runners) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill("SIGKILL");
  for (const pid of strays) if (alive(pid)) process.kill(pid, "SIGKILL");
  await Promise.all(runners.map((r) => r.exited));
  for (const dir of checkouts) fs.rmSync(dir, { recursive: true, force: true });
});

test("the start prints one progress line per step, then the banner; no raw JSON on a non-TTY stdout", () => {
  const out = first.out();
  for (const step of ["redis-server", "haproxy and the agent", "fleet 1/", "canary 1/", "alarms and the controller", "dashboard"]) {
    expect(out).toMatch(new RegExp(`aviary: \\[\\d+\\.\\ds\\] ${step.replace("/", "\\/")}`));
  }
  expect(out).toContain(BANNER);
  expect(out).toContain(`proxy      http://127.0.0.1:${aPorts[0]}`);
  const jsonLines = out.split("\n").filter((l) => l.trim().startsWith("{"));
  expect(jsonLines).toEqual([]);
  // The runner's own log is JSON, in the file.
  const runnerLog = fs.readFileSync(path.join(a, ".aviary", "run", "logs", "runner.log"), "utf8").trim().split("\n");
  expect(runnerLog.length).toBeGreaterThan(3);
  for (const line of runnerLog) expect(() => JSON.parse(line)).not.toThrow();
});

test("the README's start transcript is what a run prints: the same steps in the same order, the same banner", () => {
  const readme = fs.readFileSync(path.join(ROOT, "docs", "local-mode.md"), "utf8");
  const block = /```text\n\$ npm start\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const steps = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("aviary: [")).map((l) => l.replace(/^aviary: \[\d+\.\ds\]/, "aviary: [t]"));
  const banner = (text: string): string => text.slice(text.indexOf(BANNER), text.indexOf("Ctrl-C stops everything.") + "Ctrl-C stops everything.".length);
  const out = first.out().replaceAll(`127.0.0.1:${aPorts[0]}`, "127.0.0.1:8080").replaceAll(`127.0.0.1:${aPorts[1]}`, "127.0.0.1:8081");
  expect(steps(block!)).toEqual(steps(out));
  expect(banner(block!)).toBe(banner(out));
  // The one line before them comes from scripts/start.sh, which bundles the runner this test runs directly.
  expect(block!.split("\n")[0]).toBe("aviary: bundling the local runner…");
  expect(fs.readFileSync(path.join(ROOT, "scripts", "start.sh"), "utf8")).toContain('echo "aviary: bundling the local runner…"');
});

test("logs and state files are 0600, their directories 0700", () => {
  const aviary = path.join(a, ".aviary");
  const files = filesUnder(aviary).filter((f) => !f.endsWith(".sock"));
  expect(files).toEqual(expect.arrayContaining([path.join(aviary, "local.json"), path.join(aviary, "run", "haproxy.cfg"), path.join(aviary, "run", "logs", "runner.log"), path.join(aviary, "run", "logs", "haproxy.log"), path.join(aviary, "run", "logs", "prod-1.log")]));
  expect(files.some((f) => /flags-prod-1\.json$/.test(f))).toBe(true);
  const modes = (list: string[]): Record<string, string> => Object.fromEntries(list.map((f) => [path.relative(a, f), (fs.statSync(f).mode & 0o777).toString(8)]));
  expect(modes(files)).toEqual(Object.fromEntries(files.map((f) => [path.relative(a, f), "600"])));
  const dirs = [aviary, path.join(aviary, "run"), path.join(aviary, "run", "logs")];
  expect(modes(dirs)).toEqual(Object.fromEntries(dirs.map((f) => [path.relative(a, f), "700"])));
});

test("a second start in the same checkout names the running stack, exits non-zero and touches nothing of it", async () => {
  const runDir = path.join(a, ".aviary", "run");
  const socket = path.join(runDir, "haproxy.sock");
  const before = ["haproxy.sock", "haproxy.cfg", "app.js", "agent.js"].map((f) => `${f}:${fs.statSync(path.join(runDir, f)).ino}:${fs.statSync(path.join(runDir, f)).mtimeMs}`);
  const second = start(a, ...aPorts);
  expect(await second.exited).not.toBe(0);
  expect(second.err()).toContain(`pid ${first.proc.pid}`);
  expect(second.err()).toContain(`http://127.0.0.1:${aPorts[0]}`);
  expect(second.err()).toContain(`http://127.0.0.1:${aPorts[1]}`);
  expect(["haproxy.sock", "haproxy.cfg", "app.js", "agent.js"].map((f) => `${f}:${fs.statSync(path.join(runDir, f)).ino}:${fs.statSync(path.join(runDir, f)).mtimeMs}`)).toEqual(before);
  // The first stack still works: a weight change reaches HAProxy through its socket.
  const weights = await slotWeights(socket);
  const io = { stdout: { write: () => undefined }, stderr: { write: () => undefined } };
  expect(await run(["canary", "weight", "10"], io, { env: { REDIS_URL: localState(a).redisUrl } })).toBe(0);
  await until("the agent applied weight 10", async () => (await slotWeights(socket)) !== weights, 30_000);
  const status = (await (await fetch(`http://127.0.0.1:${aPorts[1]}/api/status`)).json()) as { backends: { proxyStatus: string }[] };
  expect(status.backends.length).toBeGreaterThan(0);
  expect(status.backends.every((b) => b.proxyStatus === "UP")).toBe(true);
}, 120_000);

test("a start in another checkout on taken ports fails before touching anything, naming the port and the stack", async () => {
  const b = await checkout();
  const other = start(b, ...aPorts);
  expect(await other.exited).not.toBe(0);
  expect(other.err()).toContain(`port ${aPorts[0]}`);
  expect(other.err()).toContain(a);
  expect(other.err()).toContain(`pid ${first.proc.pid}`);
  expect(fs.existsSync(path.join(b, ".aviary", "run"))).toBe(false);
  expect(fs.existsSync(path.join(b, ".aviary", "local.json"))).toBe(false);
  expect(await answers(aPorts[0])).toBe(true);
}, 120_000);

test("the Redis password is in no output and no log file", () => {
  const password = new URL(localState(a).redisUrl).password;
  expect(password.length).toBeGreaterThan(8);
  const logs = filesUnder(path.join(a, ".aviary", "run", "logs"));
  expect(logs.length).toBeGreaterThan(3);
  const leaks = [...runners.map((r, i) => [`runner ${i} output`, r.out() + r.err()]), ...logs.map((f) => [f, fs.readFileSync(f, "utf8")])].filter(([, text]) => text.includes(password)).map(([where]) => where);
  expect(leaks).toEqual([]);
});

test("SIGHUP (a closed terminal) stops the stack cleanly: every child gone, the proxy port closed", async () => {
  const children = descendants(first.proc.pid).map((d) => d.pid);
  expect(children.length).toBeGreaterThanOrEqual(7);
  first.proc.kill("SIGHUP");
  expect(await first.exited).toBe(0);
  await until("no child left", async () => children.every((p) => !alive(p)), 30_000);
  expect(await answers(aPorts[0])).toBe(false);
  expect(fs.existsSync(path.join(a, ".aviary", "local.json"))).toBe(false);
}, 90_000);

describe("after a crash", () => {
  let c: string;
  let cPorts: [number, number];
  let runner: Runner;
  let orphan: ChildProcess;
  let orphanPids: number[];
  let impostor: ChildProcess;

  beforeAll(async () => {
    c = await checkout();
    cPorts = [await freePort(), await freePort()];
    // A dead runner's HAProxy still on the proxy port (answering 418), recorded as its child, and a
    // process whose pid is recorded with another start time (a reused pid): it must survive.
    fs.mkdirSync(path.join(c, ".aviary"), { mode: 0o700 });
    const cfg = path.join(c, ".aviary", "orphan.cfg");
    fs.writeFileSync(cfg, `global\n  master-worker\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend f\n  bind 127.0.0.1:${cPorts[0]}\n  http-request return status 418\n`);
    orphan = spawn("haproxy", ["-W", "-db", "-f", cfg], { stdio: "ignore", detached: true });
    await until("orphan haproxy answers", () => answers(cPorts[0]), 20_000);
    orphanPids = [orphan.pid!, ...descendants(orphan.pid!).map((d) => d.pid)];
    impostor = spawn("sleep", ["600"], { stdio: "ignore", detached: true });
    strays.push(...orphanPids, impostor.pid!);
    await until("impostor started", async () => alive(impostor.pid!), 5000);
    const record = (pid: number, shift = 0): { pid: number; startTicks: number; cmd: string } => ({
      pid,
      startTicks: Number(statFields(pid)[19]) + shift,
      cmd: fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim(),
    });
    fs.writeFileSync(path.join(c, ".aviary", "children.json"), JSON.stringify([...orphanPids.map((p) => record(p)), record(impostor.pid!, 1)]));
    runner = start(c, ...cPorts);
    await up(runner);
  }, 200_000);

  test("the next start kills the leftovers it can prove are the dead runner's, and only those", async () => {
    for (const pid of orphanPids) expect(alive(pid)).toBe(false);
    expect(alive(impostor.pid!)).toBe(true);
    const killed = fs.readFileSync(path.join(c, ".aviary", "run", "logs", "runner.log"), "utf8").split("\n").filter((l) => l.includes("leftover")).map((l) => (JSON.parse(l) as { pid: number }).pid);
    expect(killed.sort()).toEqual([...orphanPids].sort());
    const codes = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`http://127.0.0.1:${cPorts[0]}/`)).status));
    expect(codes.filter((s) => s !== 200)).toEqual([]);
  }, 60_000);

  test("SIGKILL of the runner takes every child with it (HAProxy's workers and redis-server too)", async () => {
    const children = descendants(runner.proc.pid).map((d) => d);
    expect(children.some((d) => d.cmd.includes("redis-server"))).toBe(true);
    expect(children.filter((d) => d.cmd.startsWith("haproxy")).length).toBeGreaterThanOrEqual(2);
    runner.proc.kill("SIGKILL");
    await runner.exited;
    await until("no child left", async () => children.every((d) => !alive(d.pid)), 20_000);
    expect(await answers(cPorts[0])).toBe(false);
    expect(await answers(cPorts[1])).toBe(false);
  }, 60_000);
});
