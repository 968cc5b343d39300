// The pure and single-process parts of the local runner's lifecycle: who holds a port, which
// recorded process is still the same one, the lock, and what the runner prints.
import { REPO_ROOT } from "../../support/repoRoot";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { alreadyRunningMessage, REDIS_URL_EXPORT, stackUpBanner } from "../../../local/banner";
import { identify, parseRecords, stillRunning } from "../../../local/leftovers";
import { diesWithParent } from "../../../harness/parentDeath";
import { checkoutOf, listeningInodes } from "../../../local/portOwner";
import { logLevelFromEnv } from "../../../local/runnerLog";
import { takeLock } from "../../../local/stackLock";
import { tempDir } from "../../support/tempDir";

const TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0",
  "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1",
  "   2: 00000000:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0",
].join("\n");

test.each([
  [8080, ["1111"]], // listening; the established connection on the same port is not a listener
  [8081, ["3333"]],
  [8082, []],
])("listeningInodes(port %i)", (port, inodes) => {
  expect(listeningInodes(TCP, port)).toEqual(inodes);
});

test.each([
  ["haproxy -W -db -f /home/u/aviary/.aviary/run/haproxy.cfg", "/home/u/aviary"],
  ["/usr/bin/node /home/u/aviary/.aviary/run/app.js", "/home/u/aviary"],
  ["node /home/u/aviary/dist/local.js", "/home/u/aviary"],
  ["/usr/bin/redis-server 127.0.0.1:6379", undefined],
  ["nginx: master process", undefined],
])("checkoutOf(%j)", (cmd, checkout) => {
  expect(checkoutOf(cmd)).toBe(checkout);
});

test("a recorded process counts as still running only with the same start time and command line", () => {
  const me = identify(process.pid)!;
  expect(me.startTicks).toBeGreaterThan(0);
  expect(stillRunning(me)).toBe(true);
  expect(stillRunning({ ...me, startTicks: me.startTicks + 1 })).toBe(false); // a reused pid
  expect(stillRunning({ ...me, cmd: `${me.cmd} x` })).toBe(false);
  expect(stillRunning({ ...me, pid: 2 ** 22 + 1 })).toBe(false); // above pid_max: gone
});

test.each([
  ["not json", []],
  ['{"pid":1}', []],
  ['[{"pid":1,"startTicks":5,"cmd":"a"},{"pid":"2","startTicks":5,"cmd":"b"},null]', [{ pid: 1, startTicks: 5, cmd: "a" }]],
])("parseRecords(%j)", (text, records) => {
  expect(parseRecords(text)).toEqual(records);
});

test("the lock is exclusive per open file, and the second taker learns who holds it", () => {
  const file = path.join(tempDir("aviary-lock-"), "lock");
  const first = takeLock(file);
  if (!first.taken) throw new Error("first take failed");
  const second1 = takeLock(file);
  expect(second1).toEqual({ taken: false, holder: undefined }); // held, holder not written yet
  first.describe({ pid: 4242, proxyUrl: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:2", startedAt: "2026-01-01T00:00:00.000Z" });
  expect(takeLock(file)).toEqual({ taken: false, holder: { pid: 4242, proxyUrl: "http://127.0.0.1:1", adminUrl: "http://127.0.0.1:2", startedAt: "2026-01-01T00:00:00.000Z" } });
  expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("600");
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test("the banner names the URLs and how to get REDIS_URL, never a Redis URL itself", () => {
  const text = stackUpBanner({ proxyUrl: "http://127.0.0.1:8080", adminUrl: "http://127.0.0.1:8081", logDir: ".aviary/run/logs" });
  expect(text).toContain("Aviary local stack is up.");
  expect(text).toContain("proxy      http://127.0.0.1:8080");
  expect(text).toContain("dashboard  http://127.0.0.1:8081");
  expect(text).toContain(REDIS_URL_EXPORT);
  expect(text).not.toMatch(/redis:\/\//);
});

test.each([
  [{ pid: 7, proxyUrl: "http://127.0.0.1:8080", adminUrl: "http://127.0.0.1:8081" }, ["pid 7", "proxy http://127.0.0.1:8080", "dashboard http://127.0.0.1:8081", "kill 7"]],
  [undefined, ["still starting"]],
])("a second start's message (%j)", (holder, parts) => {
  const text = alreadyRunningMessage(holder, ".aviary/lock");
  for (const p of parts) expect(text).toContain(p);
  expect(text).toContain("nothing was started or changed");
});

test("children are started with a parent-death signal of SIGKILL (setpriv), keeping their own command", () => {
  const r = diesWithParent("haproxy", ["-W", "-f", "x.cfg"]);
  expect(r.command).toMatch(/\/setpriv$/);
  expect(r.args).toEqual(["--pdeathsig", "SIGKILL", "--", "haproxy", "-W", "-f", "x.cfg"]);
});

test("setup.sh says what it installs before each long npm ci of a first run (from the lock files, never rewriting them)", () => {
  // A checkout without node_modules; `npm` on PATH only records that it ran, after what was printed.
  const dir = tempDir("aviary-setup-");
  fs.mkdirSync(path.join(dir, "scripts"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.copyFileSync(path.join(REPO_ROOT, "scripts", "setup.sh"), path.join(dir, "scripts", "setup.sh"));
  fs.writeFileSync(path.join(dir, "package-lock.json"), "{}");
  fs.writeFileSync(path.join(dir, "bin", "npm"), '#!/bin/sh\necho "npm $*"\n', { mode: 0o755 });
  const r = spawnSync("bash", [path.join(dir, "scripts", "setup.sh")], { env: { ...process.env, PATH: `${path.join(dir, "bin")}:${process.env.PATH}` }, encoding: "utf8" });
  expect(r.status).toBe(0);
  const lines = r.stdout.split("\n");
  const install = lines.indexOf("npm ci --no-audit --no-fund");
  expect(install).toBeGreaterThan(0);
  expect(lines[install - 1]).toMatch(/^aviary: installing npm dependencies from package-lock\.json \(first run, ~\d+ s\)…$/);
  const policy = lines.indexOf("npm ci --prefix policy --no-audit --no-fund");
  expect(policy).toBeGreaterThan(install);
  expect(lines[policy - 1]).toMatch(/^aviary: installing the policy pack's npm dependencies from policy\/package-lock\.json \(first run, ~\d+ s\)…$/);
});

test.each([
  [{}, "info"],
  [{ LOG_LEVEL: "debug" }, "debug"],
  [{ LOG_LEVEL: "warn" }, "warn"],
])("LOG_LEVEL %j is the terminal's level %s", (env, level) => {
  expect(logLevelFromEnv(env)).toBe(level);
});

test.each(["verbose", "", "INFO"])("LOG_LEVEL %j is refused with the accepted levels named", (raw) => {
  expect(() => logLevelFromEnv({ LOG_LEVEL: raw })).toThrow(`LOG_LEVEL must be one of trace, debug, info, warn, error, fatal (got ${JSON.stringify(raw)})`);
});
