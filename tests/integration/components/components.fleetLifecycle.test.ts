// The fleet instances' lifecycle scripts, run for real by bash: the app under test is the real
// request handler on 127.0.0.1, instance metadata is a fake IMDSv2 on 127.0.0.1, and `aws` and
// `systemctl` are stubs on PATH that record their arguments.
import { execFile } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createHandler } from "../../../app/main";
import { renderAppUserData } from "../../../components/appUserData";
import {
  DRAIN_WATCHER_PATH, DRAIN_WATCHER_UNIT, FLEET_LIFECYCLE_HOOKS, LAUNCH_HEARTBEAT_SECONDS, LAUNCH_HOOK_NAME,
  renderDrainWatcherScript, renderFleetLifecycleSetup, renderLaunchHealthWait, TERMINATE_HOOK_NAME,
} from "../../../components/fleetLifecycle";
import { tempDir } from "../../support/tempDir";

const INSTANCE_ID = "i-0123456789abcdef0";
const GROUP = "aviary-prod-prod-20260101";
const TOKEN = "token-abc";

interface Fake { url: string; port: number; close(): Promise<void> }

function listen(handler: http.RequestListener): Promise<Fake> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    resolve({ url: `http://127.0.0.1:${port}`, port, close: () => new Promise((r) => server.close(() => r())) });
  }));
}

/** IMDSv2 as EC2 serves it: PUT a token first; reads without it are 401. */
function fakeImds(targetStates: string[]): Promise<Fake & { reads: string[] }> {
  const reads: string[] = [];
  return listen((req, res) => {
    if (req.method === "PUT" && req.url === "/latest/api/token") return void res.end(TOKEN);
    if (req.headers["x-aws-ec2-metadata-token"] !== TOKEN) return void res.writeHead(401).end();
    reads.push(String(req.url));
    if (req.url === "/latest/meta-data/instance-id") return void res.end(INSTANCE_ID);
    if (req.url === "/latest/meta-data/autoscaling/target-lifecycle-state") return void res.end(targetStates.shift() ?? "Terminated");
    res.writeHead(404).end();
  }).then((f) => Object.assign(f, { reads }));
}

/** A PATH with `aws` and `systemctl` that log their arguments; `aws ec2 describe-tags` prints the group. */
function stubBin(): { dir: string; log: () => string[] } {
  const dir = tempDir("aviary-lifecycle-");
  const logFile = join(dir, "calls.log");
  writeFileSync(logFile, "");
  for (const [name, body] of [
    ["aws", `[ "$1 $2" = "ec2 describe-tags" ] && echo ${GROUP}; exit 0`],
    ["systemctl", "exit 0"],
  ]) {
    writeFileSync(join(dir, name), `#!/bin/bash\necho "${name} $*" >> ${logFile}\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return { dir, log: () => readFileSync(logFile, "utf8").split("\n").filter(Boolean) };
}

function runBash(script: string, binDir: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("bash", ["-c", script], { env: { PATH: `${binDir}:${process.env.PATH}`, HOME: binDir }, timeout: 20_000 }, (err, _out, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stderr }));
    child.stdin?.end();
  });
}

const completeCall = (hook: string, result: string) =>
  `aws autoscaling complete-lifecycle-action --region us-east-1 --auto-scaling-group-name ${GROUP} --lifecycle-hook-name ${hook} --instance-id ${INSTANCE_ID} --lifecycle-action-result ${result}`;

describe("launch hook: the instance enters service once its app answers /healthz", () => {
  let draining = true;
  let app: Fake;
  let imds: Fake & { reads: string[] };
  beforeAll(async () => {
    app = await listen(createHandler({ version: "1.2.3", role: "prod", instanceId: INSTANCE_ID, draining: () => draining }) as http.RequestListener);
    imds = await fakeImds([]);
  });
  afterAll(async () => {
    await app.close();
    await imds.close();
  });

  test("503 from /healthz is not healthy; the first 200 completes the hook with CONTINUE", async () => {
    const bin = stubBin();
    draining = true;
    setTimeout(() => { draining = false; }, 600);
    const script = `set -euo pipefail\n${renderLaunchHealthWait({ appPort: app.port, region: "us-east-1", imdsUrl: imds.url, healthAttempts: 40, healthIntervalSeconds: 0.1 })}`;
    const result = await runBash(script, bin.dir);
    expect(result).toEqual({ code: 0, stderr: "" });
    expect(bin.log()).toEqual([
      `aws ec2 describe-tags --region us-east-1 --filters Name=resource-id,Values=${INSTANCE_ID} Name=key,Values=aws:autoscaling:groupName --query Tags[0].Value --output text`,
      completeCall(LAUNCH_HOOK_NAME, "CONTINUE"),
    ]);
    expect(imds.reads).toContain("/latest/meta-data/instance-id");
  });

  test("an app that never answers 200 within the bound: ABANDON and a failed boot script", async () => {
    const bin = stubBin();
    draining = true;
    const script = `set -euo pipefail\n${renderLaunchHealthWait({ appPort: app.port, region: "us-east-1", imdsUrl: imds.url, healthAttempts: 3, healthIntervalSeconds: 0.1 })}`;
    const result = await runBash(script, bin.dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the app never answered /healthz: abandoning this instance");
    expect(bin.log().at(-1)).toBe(completeCall(LAUNCH_HOOK_NAME, "ABANDON"));
  });
});

describe("termination hook: the watcher drains the app, then lets the termination go on", () => {
  test("InService: nothing happens; Terminated: stop the app first, then CONTINUE, then exit", async () => {
    const imds = await fakeImds(["InService", "InService", "Terminated"]);
    const bin = stubBin();
    const script = renderDrainWatcherScript({ appPort: 3000, region: "us-east-1", imdsUrl: imds.url, watchIntervalSeconds: 0.1 });
    const result = await runBash(script, bin.dir);
    await imds.close();
    expect(result.code).toBe(0);
    const calls = bin.log();
    expect(calls[0]).toBe("systemctl stop aviary-app.service");
    expect(calls.at(-1)).toBe(completeCall(TERMINATE_HOOK_NAME, "CONTINUE"));
    expect(imds.reads.filter((r) => r.endsWith("target-lifecycle-state"))).toHaveLength(3);
  });

  test("a failed completion exits non-zero, so systemd restarts the watcher and it tries again", async () => {
    const imds = await fakeImds(["Terminated"]);
    const bin = stubBin();
    writeFileSync(join(bin.dir, "aws"), `#!/bin/bash\n[ "$1 $2" = "ec2 describe-tags" ] && { echo ${GROUP}; exit 0; }\nexit 255\n`);
    const result = await runBash(renderDrainWatcherScript({ appPort: 3000, region: "us-east-1", imdsUrl: imds.url, watchIntervalSeconds: 0.1 }), bin.dir);
    await imds.close();
    expect(result.code).toBe(1);
  });
});

describe("rendered boot script", () => {
  const values = { version: "1.2.3", bucket: "b", key: "releases/1.2.3/app.js", appPort: 3000, redisUrlParameterName: "/p", region: "us-east-1" };

  test("fleet instances install and start the watcher, then wait for /healthz at the very end of boot", () => {
    const script = renderAppUserData({ ...values, role: "prod" });
    expect(script.endsWith(renderFleetLifecycleSetup({ appPort: 3000, region: "us-east-1" }))).toBe(true);
    expect(script).toContain(`cat > ${DRAIN_WATCHER_PATH} <<'WATCHER'\n${renderDrainWatcherScript({ appPort: 3000, region: "us-east-1" })}WATCHER\n`);
    expect(script).toContain(`systemctl enable --now ${DRAIN_WATCHER_UNIT}`);
    expect(script.indexOf("systemctl enable --now aviary-app.service")).toBeLessThan(script.indexOf(`lifecycle_complete ${LAUNCH_HOOK_NAME} CONTINUE`));
    expect(script).toContain("curl -sf -m 2 -o /dev/null http://127.0.0.1:3000/healthz");
    expect(script).toContain("AVIARY_IMDS=http://169.254.169.254");
  });

  test("canary instances are in no Auto Scaling group: no lifecycle part", () => {
    expect(renderAppUserData({ ...values, role: "canary" })).not.toContain("complete-lifecycle-action");
  });

  test("the health wait ends well inside the launch hook's heartbeat", () => {
    const launch = FLEET_LIFECYCLE_HOOKS.find((h) => h.name === LAUNCH_HOOK_NAME);
    const wait = /seq 1 (\d+)\); do\n.*-m (\d+) .*\n  sleep (\d+)/.exec(renderLaunchHealthWait({ appPort: 3000, region: "us-east-1" }));
    const [attempts, curlMax, sleep] = (wait ?? []).slice(1).map(Number);
    expect(launch?.heartbeatTimeout).toBe(LAUNCH_HEARTBEAT_SECONDS);
    expect(attempts * (curlMax + sleep)).toBeLessThanOrEqual(LAUNCH_HEARTBEAT_SECONDS / 2);
  });

  test("values that could inject into the script are refused", () => {
    expect(() => renderLaunchHealthWait({ appPort: 3000, region: "us-east-1; rm -rf /" })).toThrow(/not an AWS region name/);
    expect(() => renderLaunchHealthWait({ appPort: 3000, region: "us-east-1", imdsUrl: "http://x/$(id)" })).toThrow(/imdsUrl/);
    expect(() => renderLaunchHealthWait({ appPort: 0, region: "us-east-1" })).toThrow(/bad appPort/);
  });
});
