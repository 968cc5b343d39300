// The dnf stand-in, run by bash on a scratch root (every path it writes is under ROOT; users go to
// ROOT's passwd through useradd --prefix), against this machine's real dpkg database and binaries.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderAppUserData } from "../../../components/appUserData";
import { renderProxyUserData } from "../../../components/proxy";
import { redisUserData } from "../../../components/redisServer";
import { NODE_BIN } from "../../../components/systemdUnit";
import { readCallLog } from "../../../boot/standins/callLog";
import { CLOUDWATCH_AGENT_CTL_PATH, CLOUDWATCH_AGENT_PAYLOAD, renderCloudWatchAgentCtl } from "../../../boot/standins/cloudwatchAgent";
import { debianPackagesFor, DNF_CALLS_LOG, DNF_PACKAGES, renderDnf, type DnfPackage } from "../../../boot/standins/dnf";
import { tempDir } from "../../support/tempDir";

const NODE_24 = join(REPO_ROOT, "node_modules", "node", "bin", "node");

/** A scratch root shaped like the cached bookworm root: Debian's haproxy files, masked units, Node 24. */
function scratchRoot(): string {
  const root = tempDir("aviary-dnf-");
  for (const d of ["etc/systemd/system", "usr/bin", "usr/sbin", "usr/lib/tmpfiles.d", "usr/lib/systemd/system"]) mkdirSync(join(root, d), { recursive: true });
  symlinkSync("usr/lib", join(root, "lib"));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nhaproxy:x:101:102::/var/lib/haproxy:/usr/sbin/nologin\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nhaproxy:x:102:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
  writeFileSync(join(root, "etc/gshadow"), "root:*::\n");
  // What Debian's haproxy package put there (dpkg -c haproxy_2.6.12-1+deb12u4).
  writeFileSync(join(root, "usr/lib/tmpfiles.d/haproxy.conf"), "d /run/haproxy 2775 haproxy haproxy -\n");
  writeFileSync(join(root, "usr/lib/systemd/system/haproxy.service"), "[Service]\nExecStart=/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg\nRestart=always\n");
  symlinkSync("/dev/null", join(root, "etc/systemd/system/haproxy.service"));
  for (const bin of ["redis-server", "redis-cli"]) symlinkSync(`/usr/bin/${bin}`, join(root, "usr/bin", bin));
  symlinkSync("/usr/sbin/haproxy", join(root, "usr/sbin/haproxy"));
  symlinkSync(NODE_24, join(root, "usr/bin", NODE_BIN));
  mkdirSync(join(root, CLOUDWATCH_AGENT_PAYLOAD, ".."), { recursive: true });
  writeFileSync(join(root, CLOUDWATCH_AGENT_PAYLOAD), renderCloudWatchAgentCtl(), { mode: 0o755 });
  return root;
}

function dnfIn(root: string, packages?: readonly DnfPackage[]): string {
  const file = join(root, "usr/bin/dnf");
  writeFileSync(file, renderDnf({ root }, packages));
  chmodSync(file, 0o755);
  return file;
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH! }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("the package table", () => {
  // Every `dnf install` a boot script runs names only packages the stand-in maps.
  const scripts = {
    app: renderAppUserData({ role: "prod", version: "1.0.0", bucket: "b-123", key: "k", appPort: 8080, redisUrlParameterName: "/p", region: "eu-west-1" }),
    proxy: renderProxyUserData({ appPort: 8080, deployment: "prod", bucket: "b-123", agentKeyParameterName: "/a", redisUrlParameterName: "/p", region: "eu-west-1", latencyThresholdMs: 500, accessLog: "errors" }),
    redis: redisUserData({ passwordParameterName: "/p", region: "eu-west-1" }),
  };
  test.each(Object.entries(scripts))("%s: every package it installs is mapped", (_name, script) => {
    const installs = script.split("\n").filter((l) => /\bdnf install\b/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    const names = installs.flatMap((l) => l.replace(/^.*dnf install\s+/, "").split(/\s+/).filter((w) => !w.startsWith("-")));
    for (const n of names) expect(DNF_PACKAGES.map((p) => p.name)).toContain(n);
  });

  test("each entry says how it differs from AL2023, and the root needs exactly these Debian packages", () => {
    for (const p of DNF_PACKAGES) expect(p.difference.length).toBeGreaterThan(20);
    expect(debianPackagesFor()).toEqual(["haproxy", "jq", "redis-server", "redis-tools"]);
  });
});

describe("dnf install as AL2023's dnf answers it", () => {
  test("an unknown name fails as dnf does, and nothing of the other names is installed", async () => {
    const root = scratchRoot();
    const r = await run(dnfIn(root), ["install", "-y", "haproxy", "nginx", "redis"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No match for argument: nginx\nNo match for argument: redis\nError: Unable to find a match: nginx redis");
    expect(existsSync(join(root, "usr/lib/tmpfiles.d/haproxy.conf"))).toBe(true);
    expect(readlinkSync(join(root, "etc/systemd/system/haproxy.service"))).toBe("/dev/null");
    expect(readCallLog(join(root, DNF_CALLS_LOG))).toEqual([{ args: ["install", "-y", "haproxy", "nginx", "redis"], exit: 1 }]);
  });

  test.each<[string, string[], string]>([
    ["no -y: the prompt gets no answer", ["install", "haproxy"], "Is this ok [y/N]: Operation aborted."],
    ["no package", ["install", "-y"], "Error: Need to pass a list of pkgs to install"],
    ["another command", ["update", "-y"], "unsupported call: dnf update -y"],
    ["an option the stand-in does not know", ["install", "-y", "--enablerepo=x", "haproxy"], "unsupported option --enablerepo=x"],
  ])("%s: exit 1", async (_what, args, message) => {
    const root = scratchRoot();
    const r = await run(dnfIn(root), args);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(root, "usr/lib/tmpfiles.d/haproxy.conf"))).toBe(true);
  });

  test("a mapped package whose Debian package is not in the root fails, naming it", async () => {
    const root = scratchRoot();
    const table: DnfPackage[] = [{ name: "memcached", debian: ["aviary-no-such-debian-package"], commands: [], difference: "-", install: "true" }];
    const r = await run(dnfIn(root, table), ["install", "-y", "memcached"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("memcached stands for Debian's aviary-no-such-debian-package, which is not installed in this root");
  });

  test("a failing step of an install fails dnf and stops that install there", async () => {
    const root = scratchRoot();
    const table: DnfPackage[] = [{ name: "haproxy", debian: ["haproxy"], commands: [], difference: "-", install: `false\ntouch "$ROOT/after-the-failure"` }];
    const r = await run(dnfIn(root, table), ["install", "-y", "haproxy"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: installing haproxy failed");
    expect(existsSync(join(root, "after-the-failure"))).toBe(false);
  });

  test("Debian's tmpfiles rule alone gives /run/haproxy to haproxy (what a boot test on Debian would otherwise inherit)", () => {
    const root = scratchRoot();
    execFileSync("systemd-tmpfiles", [`--root=${root}`, "--create"], { stdio: "pipe" });
    expect(statSync(join(root, "run/haproxy")).uid).toBe(101);
  });

  test("haproxy: AL2023's unit replaces Debian's and is unmasked, Debian's /run/haproxy rule is gone", async () => {
    const root = scratchRoot();
    const r = await run(dnfIn(root), ["install", "-y", "haproxy"]);
    // As on AL2023, nothing but the boot script's own rule makes /run/haproxy.
    execFileSync("systemd-tmpfiles", [`--root=${root}`, "--create"], { stdio: "pipe" });
    expect(existsSync(join(root, "run/haproxy"))).toBe(false);
    expect(r).toMatchObject({ code: 0, stdout: "Installed:\n  haproxy\nComplete!\n" });
    expect(existsSync(join(root, "usr/lib/tmpfiles.d/haproxy.conf"))).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/haproxy.service"))).toBe(false);
    const unit = readFileSync(join(root, "usr/lib/systemd/system/haproxy.service"), "utf8");
    expect(unit).toContain("ExecStartPre=/usr/sbin/haproxy -f $CONFIG -f $CFGDIR -c -q $OPTIONS");
    for (const absent of ["User=", "RuntimeDirectory", "Restart="]) expect(unit).not.toContain(absent);
    expect(statSync(join(root, "etc/haproxy/conf.d")).isDirectory()).toBe(true);
    // The unit as systemd reads it (its binaries are this machine's).
    execFileSync("systemd-analyze", ["verify", join(root, "usr/lib/systemd/system/haproxy.service")], { stdio: "pipe" });
    const again = await run(dnfIn(root), ["install", "-y", "haproxy"]);
    expect(again).toMatchObject({ code: 0, stdout: "Package haproxy is already installed.\nDependencies resolved.\nNothing to do.\nComplete!\n" });
  });

  test("redis6: Debian's redis under AL2023's names, user, paths and unit", async () => {
    const root = scratchRoot();
    const r = await run(dnfIn(root), ["install", "-y", "redis6"]);
    expect(r.code).toBe(0);
    const passwd = readFileSync(join(root, "etc/passwd"), "utf8");
    const entry = passwd.split("\n").find((l) => l.startsWith("redis6:"))!.split(":");
    expect(entry[5]).toBe("/var/lib/redis6");
    expect(statSync(join(root, "var/lib/redis6")).uid).toBe(Number(entry[2]));
    expect(statSync(join(root, "etc/redis6")).gid).toBe(Number(entry[3]));
    expect(statSync(join(root, "etc/redis6/redis6.conf")).mode & 0o777).toBe(0o640);
    // redis6-server is a real Redis server (Debian's binary picks its mode from its name).
    expect(execFileSync(join(root, "usr/bin/redis6-server"), ["--version"], { encoding: "utf8" })).toMatch(/^Redis server v=7\./);
    expect(execFileSync(join(root, "usr/bin/redis6-cli"), ["--version"], { encoding: "utf8" })).toMatch(/^redis-cli 7\./);
    const unit = readFileSync(join(root, "usr/lib/systemd/system/redis6.service"), "utf8");
    expect(unit).toContain("ExecStart=/usr/bin/redis6-server /etc/redis6/redis6.conf --daemonize no --supervised systemd");
    expect(unit).toContain("User=redis6\nGroup=redis6");
  });

  test("nodejs24 and amazon-cloudwatch-agent together, as the app script installs them", async () => {
    const root = scratchRoot();
    const r = await run(dnfIn(root), ["install", "-y", "nodejs24", "amazon-cloudwatch-agent"]);
    expect(r).toMatchObject({ code: 0, stdout: "Installed:\n  nodejs24\n  amazon-cloudwatch-agent\nComplete!\n" });
    expect(lstatSync(join(root, CLOUDWATCH_AGENT_CTL_PATH)).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, "opt/aws/amazon-cloudwatch-agent/etc")).isDirectory()).toBe(true);
  });

  test("nodejs24 without the Node 24 binary in the root fails", async () => {
    const root = scratchRoot();
    execFileSync("rm", [join(root, "usr/bin", NODE_BIN)]);
    const r = await run(dnfIn(root), ["install", "-y", "nodejs24"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`nodejs24 stand-in: ${NODE_BIN} is missing, not Node 24`);
  });
});
