// installStandins on a scratch root, then the stand-ins run at their real paths inside it: a chroot
// in a private mount namespace whose /usr is this machine's bookworm /usr under an overlay (writes go
// to the overlay, never to the host) and whose dpkg database is this machine's, read-only. The
// commands are the boot scripts' own dnf, aws and agent-ctl lines.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile } from "node:child_process";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloudWatchAgentConfig, renderAppUserData } from "../../../components/appUserData";
import { renderProxyUserData } from "../../../components/proxy";
import { redisUserData } from "../../../components/redisServer";
import { NODE_BIN } from "../../../components/systemdUnit";
import { AWS_CLI_PATH } from "../../../boot/standins/awsCli";
import { CLOUDWATCH_AGENT_PAYLOAD } from "../../../boot/standins/cloudwatchAgent";
import { DNF_PATH } from "../../../boot/standins/dnf";
import { installStandins, NOT_YET_INSTALLED_UNITS, readAwsCalls, readCallLog, readCloudWatchAgentRecord } from "../../../boot/standins/index";
import { tempDir } from "../../support/tempDir";

const REGION = "eu-west-1";
const NODE_24 = join(REPO_ROOT, "node_modules", "node", "bin", "node");
const URL_PARAM = "/aviary/prod/redis/url";

function scratchRoot(): { base: string; root: string } {
  const base = tempDir("aviary-standins-");
  const root = join(base, "root");
  for (const d of ["etc", "usr", "var/lib/dpkg", "tmp", "dev", "proc", "opt", "run"]) mkdirSync(join(root, d), { recursive: true });
  for (const l of ["bin", "lib", "lib64", "sbin"]) symlinkSync(`usr/${l}`, join(root, l));
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\nhaproxy:x:101:102::/var/lib/haproxy:/usr/sbin/nologin\n");
  writeFileSync(join(root, "etc/group"), "root:x:0:\nhaproxy:x:102:\n");
  writeFileSync(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\n");
  writeFileSync(join(root, "etc/gshadow"), "root:*::\n");
  mkdirSync(join(base, "upper/bin"), { recursive: true });
  mkdirSync(join(base, "work"));
  writeFileSync(join(base, "upper/bin", NODE_BIN), "");
  return { base, root };
}

/** Runs a bash script as root inside the scratch root (chroot), with this machine's /usr beneath it. */
function inRoot(base: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = join(base, "root");
  const setup = [
    `mount -t overlay overlay -o lowerdir=${root}/usr:/usr,upperdir=${base}/upper,workdir=${base}/work ${root}/usr`,
    `mount --bind ${NODE_24} ${root}/usr/bin/${NODE_BIN}`,
    `mount --bind -o ro /var/lib/dpkg ${root}/var/lib/dpkg`,
    `mount --bind /dev ${root}/dev`,
    `mount -t proc proc ${root}/proc`,
  ].join(" && ");
  return new Promise((resolve) => {
    execFile("unshare", ["--mount", "--propagation", "private", "bash", "-c", `${setup} && exec chroot ${root} /bin/bash -c "$0"`, script],
      { env: { PATH: "/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin", HOME: "/root" }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });
}

const dnfLine = (script: string) => script.split("\n").find((l) => l.startsWith("retry dnf install"))!.replace(/^retry /, "");
const APP = renderAppUserData({ role: "prod", version: "1.0.0", bucket: "aviary-releases-0123", key: "releases/1.0.0/app.js", appPort: 8080, redisUrlParameterName: URL_PARAM, region: REGION });
const PROXY = renderProxyUserData({ appPort: 8080, deployment: "prod", bucket: "aviary-releases-0123", agentKeyParameterName: "/aviary/prod/proxy/agent-key", redisUrlParameterName: URL_PARAM, region: REGION, latencyThresholdMs: 500, accessLog: "errors" });
const REDIS = redisUserData({ passwordParameterName: "/aviary/prod/redis/password", region: REGION });

test("installStandins refuses a directory that is not a system root", () => {
  expect(() => installStandins(tempDir("aviary-notroot-"), { aws: { region: REGION } })).toThrow(/not a system root/);
});

describe("installStandins, then the boot scripts' own lines inside the root", () => {
  const { base, root } = scratchRoot();
  let installed: ReturnType<typeof installStandins>;
  beforeAll(() => {
    installed = installStandins(root, { aws: { region: REGION, parameters: [{ name: URL_PARAM, value: "redis://:pw@10.77.0.20:6379", type: "SecureString" }] } });
  });

  test("scripts at their paths, mode 0755; Debian's units masked until dnf installs them", () => {
    for (const p of [AWS_CLI_PATH, DNF_PATH, CLOUDWATCH_AGENT_PAYLOAD]) expect(statSync(join(root, p)).mode & 0o777).toBe(0o755);
    for (const unit of NOT_YET_INSTALLED_UNITS) expect(readlinkSync(join(root, "etc/systemd/system", unit))).toBe("/dev/null");
  });

  test("the proxy's, the app's and Redis' dnf lines install; the aws and agent-ctl calls are served", async () => {
    const lines = [dnfLine(PROXY), dnfLine(APP), dnfLine(REDIS)];
    expect(lines).toEqual(["dnf install -y haproxy nodejs24", "dnf install -y nodejs24 amazon-cloudwatch-agent", "dnf install -y redis6"]);
    const ctl = APP.split("\n").find((l) => l.startsWith("/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"))!;
    const r = await inRoot(base, `set -euo pipefail
${lines.join("\n")}
command -v ${NODE_BIN} haproxy redis6-server
aws ssm get-parameter --region ${REGION} --name ${URL_PARAM} --with-decryption --query Parameter.Value --output text
cat > /opt/aws/amazon-cloudwatch-agent/etc/aviary.json <<'CW'
${cloudWatchAgentConfig("prod")}
CW
${ctl}
id redis6`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`/usr/bin/${NODE_BIN}\n/usr/sbin/haproxy\n/usr/bin/redis6-server\nredis://:pw@10.77.0.20:6379\n`);
    expect(r.stdout).toMatch(/uid=\d+\(redis6\) gid=\d+\(redis6\)/);
    expect(readCallLog(installed.dnfCallsLog).map((c) => [c.args.join(" "), c.exit])).toEqual([
      ["install -y haproxy nodejs24", 0], ["install -y nodejs24 amazon-cloudwatch-agent", 0], ["install -y redis6", 0],
    ]);
    expect(readAwsCalls(installed.awsDataDir).map((c) => c.exit)).toEqual([0]);
    expect(readCloudWatchAgentRecord(installed.cloudWatchAgentRecordDir)).toMatchObject({ status: "running", config: JSON.parse(cloudWatchAgentConfig("prod")) });
    // haproxy.service is AL2023's now (in the overlay) and unmasked; redis-server.service stays masked.
    expect(readFileSync(join(base, "upper/lib/systemd/system/haproxy.service"), "utf8")).toContain("CFGDIR=/etc/haproxy/conf.d");
    expect(() => lstatSync(join(root, "etc/systemd/system/haproxy.service"))).toThrow();
    expect(readlinkSync(join(root, "etc/systemd/system/redis-server.service"))).toBe("/dev/null");
  });

  test("the units dnf wrote pass systemd-analyze verify inside the root", async () => {
    const r = await inRoot(base, "systemd-analyze verify /usr/lib/systemd/system/haproxy.service /usr/lib/systemd/system/redis6.service");
    expect(r).toMatchObject({ code: 0 });
  });
});
