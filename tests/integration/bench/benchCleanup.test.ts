// The bench stops everything it started however it ends: a crash (nginx not installed) and an
// interrupt (SIGINT, as Ctrl-C sends). Its children run in their own process groups, so only the
// bench can stop them; a leftover is found by a marker in its environment, inherited from the bench,
// or (redis-server overwrites its environment with its process title) by a working directory
// inside the run's TMPDIR.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { tempDir } from "../../support/tempDir";

jest.setTimeout(180_000);

const repoDir = path.resolve(REPO_ROOT);
const mark = `AVIARY_BENCH_TEST_MARK=${randomBytes(6).toString("hex")}`;
const RUN_PREFIX = path.join(os.tmpdir(), "aviary-benchcleanup-");

/** Bundled like `npm run bench:*`, into dist/ (one level below the repo, as the bench's paths expect). */
function bundle(entry: string): string {
  const out = path.join(repoDir, "dist", `test-${entry}.js`);
  buildSync({ entryPoints: [path.join(repoDir, "bench", `${entry}.ts`)], bundle: true, platform: "node", target: "node24", packages: "external", outfile: out, logLevel: "warning" });
  return out;
}

/** A PATH with node, haproxy and redis-server only: no nginx, no wrk. */
function pathWithout(dir: string): string {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
  for (const cmd of ["haproxy", "redis-server"]) fs.symlinkSync(execFileSync("bash", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).trim(), path.join(bin, cmd));
  return bin;
}

/** Processes (other than this one) started by a bench this file ran. */
function marked(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const ours = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(mark) || fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(RUN_PREFIX);
      if (ours) found.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`);
    } catch { /* gone meanwhile */ }
  }
  return found;
}

interface Ended { code: number | null; out: string; tmpLeft: string[] }

/** Runs a bundled bench with its own TMPDIR; `interruptOn`: SIGINT once that line is printed. */
function runBenchBundle(file: string, env: NodeJS.ProcessEnv, interruptOn?: string): Promise<Ended> {
  const dir = fs.mkdtempSync(RUN_PREFIX);
  const tmp = path.join(dir, "tmp");
  fs.mkdirSync(tmp);
  const [k, v] = mark.split("=");
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env, TMPDIR: tmp, [k]: v }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let interrupted = false;
  const onData = (d: Buffer): void => {
    out += d;
    if (interruptOn !== undefined && !interrupted && out.includes(interruptOn)) {
      interrupted = true;
      child.kill("SIGINT");
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  return new Promise((resolve) => child.on("exit", (code) => {
    const tmpLeft = fs.readdirSync(tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    resolve({ code, out, tmpLeft });
  }));
}

afterAll(() => {
  // Whatever a failing run left behind goes too, so one failure does not leak into other tests.
  for (const p of marked()) process.kill(Number(p.split(" ")[0]), "SIGKILL");
});

test("a bench that cannot start nginx says how to install it and leaves no HAProxy or Redis running", async () => {
  const dir = tempDir("aviary-benchpath-");
  try {
    const r = await runBenchBundle(bundle("proxyMain"), { PATH: pathWithout(dir) });
    expect(r.out).toContain("cannot run nginx");
    expect(r.out).toContain("bash scripts/setup.sh bench");
    expect(r.code).toBe(1);
    expect(marked()).toEqual([]);
    expect(r.tmpLeft).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("SIGINT during bench:flags exits 130 and stops its redis-server", async () => {
  const r = await runBenchBundle(bundle("flagsMain"), { AVIARY_BENCH_QUICK: "1" }, "flags: timing evaluations");
  expect(r.code).toBe(130);
  expect(marked()).toEqual([]);
  expect(r.tmpLeft).toEqual([]);
});
