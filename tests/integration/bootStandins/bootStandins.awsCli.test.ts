// The aws CLI stand-in, run by bash: each documented answer (message and exit code) as a table, then
// the exact aws calls the rendered boot scripts make, served from a data tree written by writeAwsData.
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createHandler } from "../../../app/main";
import { renderAppUserData } from "../../../components/appUserData";
import { bootScriptPreamble } from "../../../components/bootShell";
import { LAUNCH_HOOK_NAME, renderLaunchHealthWait } from "../../../components/fleetLifecycle";
import { renderProxyUserData } from "../../../components/proxy";
import { renderAgentInstallScript } from "../../../components/proxyAgent";
import { redisUserData } from "../../../components/redisServer";
import { encodeName, readAwsCalls, readCompletedLifecycleActions, renderAwsCli, writeAwsData, type AwsData } from "../../../boot/standins/awsCli";
import { startImds } from "../../../boot/standins/imds";
import { tempDir } from "../../support/tempDir";

const REGION = "eu-west-1";
const BUCKET = "aviary-releases-0123";
const APP_KEY = "releases/1.4.0/app.js";
const AGENT_KEY = "releases/1.4.0/agent.js";
const URL_PARAM = "/aviary/prod/redis/url";
const PASSWORD_PARAM = "/aviary/prod/redis/password";
const AGENT_PARAM = "/aviary/prod/proxy/agent-key";
const REDIS_URL = "redis://:s3cretPassw0rd@10.77.0.20:6379";
const INSTANCE_ID = "i-0123456789abcdef0";
const GROUP = "aviary-prod-prod-20260101";

const DATA: AwsData = {
  region: REGION,
  objects: [
    { bucket: BUCKET, key: APP_KEY, body: "console.log('app 1.4.0');\n" },
    { bucket: BUCKET, key: AGENT_KEY, body: "console.log('agent 1.4.0');\n" },
  ],
  parameters: [
    { name: URL_PARAM, value: REDIS_URL, type: "SecureString" },
    { name: PASSWORD_PARAM, value: "s3cretPassw0rd", type: "SecureString" },
    { name: AGENT_PARAM, value: AGENT_KEY, type: "String" },
  ],
  tags: [{ resourceId: INSTANCE_ID, key: "aws:autoscaling:groupName", value: GROUP }],
  pendingLifecycleActions: [{ group: GROUP, hook: LAUNCH_HOOK_NAME, instanceId: INSTANCE_ID }],
};

interface Run { code: number; stdout: string; stderr: string }

// Nothing listens here: the region fallback to instance metadata finds no IMDS (and never leaves 127.0.0.1).
const NO_IMDS = "http://127.0.0.1:1";

/** A fresh data tree and a bin dir with the stand-in as `aws`. */
function world(data: AwsData = DATA, imdsUrl = NO_IMDS): { dir: string; dataDir: string; bin: string } {
  const dir = tempDir("aviary-awscli-");
  const dataDir = join(dir, "aws-data");
  const bin = join(dir, "bin");
  writeAwsData(dataDir, data);
  mkdirSync(bin);
  writeFileSync(join(bin, "aws"), renderAwsCli({ dataDir, imdsUrl }));
  chmodSync(join(bin, "aws"), 0o755);
  return { dir, dataDir, bin };
}

function bash(script: string, bin: string, env: Record<string, string> = {}, cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { env: { PATH: `${bin}:${process.env.PATH}`, ...env }, cwd, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });
}

const aws = (w: { bin: string; dir: string }, args: string[], env: Record<string, string> = {}) =>
  new Promise<Run>((resolve) => {
    execFile(join(w.bin, "aws"), args, { env: { PATH: process.env.PATH!, ...env }, cwd: w.dir, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });

describe("aws stand-in: documented answers", () => {
  const w = world();
  const get = (name: string, ...more: string[]) => ["ssm", "get-parameter", "--region", REGION, "--name", name, ...more, "--query", "Parameter.Value", "--output", "text"];

  test.each<[string, string[], Record<string, string>, number, string, string]>([
    ["SecureString with --with-decryption: the value", get(URL_PARAM, "--with-decryption"), {}, 0, `${REDIS_URL}\n`, ""],
    ["String without --with-decryption: the value (the flag only matters for SecureString)", get(AGENT_PARAM), {}, 0, `${AGENT_KEY}\n`, ""],
    ["String with --with-decryption: the value", get(AGENT_PARAM, "--with-decryption"), {}, 0, `${AGENT_KEY}\n`, ""],
    ["missing parameter: ParameterNotFound, exit 254", get("/aviary/prod/nope", "--with-decryption"), {}, 254, "", "An error occurred (ParameterNotFound) when calling the GetParameter operation: "],
    ["parameter asked for in another region: not found there", ["ssm", "get-parameter", "--region", "us-east-1", "--name", URL_PARAM, "--with-decryption", "--query", "Parameter.Value", "--output", "text"], {}, 254, "", "ParameterNotFound"],
    ["no region at all: exit 253", ["ssm", "get-parameter", "--name", URL_PARAM, "--query", "Parameter.Value", "--output", "text"], {}, 253, "", 'You must specify a region. You can also configure your region by running "aws configure".'],
    ["region from AWS_REGION", ["ssm", "get-parameter", "--name", AGENT_PARAM, "--query", "Parameter.Value", "--output", "text"], { AWS_REGION: REGION }, 0, `${AGENT_KEY}\n`, ""],
    ["a malformed region", get(AGENT_PARAM).map((a) => (a === REGION ? "Europe" : a)), {}, 255, "", "Provided region_name 'Europe' doesn't match a supported format."],
    ["no --name: exit 252", ["ssm", "get-parameter", "--region", REGION, "--query", "Parameter.Value", "--output", "text"], {}, 252, "", "the following arguments are required: --name"],
    ["an unknown option: exit 252", [...get(AGENT_PARAM), "--decrypt"], {}, 252, "", "Unknown options: --decrypt"],
    ["another --query is not served", ["ssm", "get-parameter", "--region", REGION, "--name", AGENT_PARAM, "--query", "Parameter.Type", "--output", "text"], {}, 252, "", "unsupported call"],
    ["missing object: HeadObject 404, exit 1", ["s3", "cp", "--region", REGION, `s3://${BUCKET}/releases/9.9.9/app.js`, "out.js"], {}, 1, "", 'fatal error: An error occurred (404) when calling the HeadObject operation: Key "releases/9.9.9/app.js" does not exist'],
    ["missing bucket: the same 404", ["s3", "cp", "--region", REGION, "s3://no-such-bucket-here/x.js", "out.js"], {}, 1, "", 'Key "x.js" does not exist'],
    ["an upload is not served", ["s3", "cp", "--region", REGION, "local.js", `s3://${BUCKET}/x.js`], {}, 252, "", "unsupported call"],
    ["an operation the scripts never call", ["ec2", "terminate-instances", "--region", REGION, "--instance-ids", INSTANCE_ID], {}, 252, "", "unsupported call: aws ec2 terminate-instances"],
    ["a tag that is there", ["ec2", "describe-tags", "--region", REGION, "--filters", `Name=resource-id,Values=${INSTANCE_ID}`, "Name=key,Values=aws:autoscaling:groupName", "--query", "Tags[0].Value", "--output", "text"], {}, 0, `${GROUP}\n`, ""],
    ["a tag that is not: null, printed as None", ["ec2", "describe-tags", "--region", REGION, "--filters", "Name=resource-id,Values=i-0fffffffffffffff0", "Name=key,Values=aws:autoscaling:groupName", "--query", "Tags[0].Value", "--output", "text"], {}, 0, "None\n", ""],
    ["a lifecycle result that is not CONTINUE or ABANDON", ["autoscaling", "complete-lifecycle-action", "--region", REGION, "--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", LAUNCH_HOOK_NAME, "--instance-id", INSTANCE_ID, "--lifecycle-action-result", "OK"], {}, 254, "", "(ValidationError) when calling the CompleteLifecycleAction operation"],
    ["no pending action for that hook", ["autoscaling", "complete-lifecycle-action", "--region", REGION, "--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", "aviary-drain", "--instance-id", INSTANCE_ID, "--lifecycle-action-result", "CONTINUE"], {}, 254, "", `No active Lifecycle Action found with instance ID ${INSTANCE_ID}`],
  ])("%s", async (_what, args, env, code, stdout, stderr) => {
    const r = await aws(w, args, env);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe(stdout);
    expect(r.stderr).toContain(stderr);
  });

  test("without --region or AWS_REGION the region comes from instance metadata, unless AWS_EC2_METADATA_DISABLED", async () => {
    const imds = await startImds({ host: "127.0.0.1", port: 0, instances: { "127.0.0.1": { instanceId: INSTANCE_ID, localIpv4: "10.77.0.30", region: REGION, availabilityZone: `${REGION}a` } } });
    try {
      const onEc2 = world(DATA, imds.url);
      const args = ["ssm", "get-parameter", "--name", AGENT_PARAM, "--query", "Parameter.Value", "--output", "text"];
      expect(await aws(onEc2, args)).toMatchObject({ code: 0, stdout: `${AGENT_KEY}\n` });
      expect((await aws(onEc2, args, { AWS_EC2_METADATA_DISABLED: "true" })).code).toBe(253);
      expect(imds.log.map((l) => `${l.method} ${l.path} ${l.status}`)).toEqual(["PUT /latest/api/token 200", "GET /latest/meta-data/placement/region 200"]);
    } finally {
      await imds.close();
    }
  });

  test("a SecureString read without --with-decryption is ciphertext, never the value", async () => {
    const r = await aws(w, get(URL_PARAM));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^AQICAH[A-Za-z0-9+/=]{40,}\n$/);
    expect(r.stdout).not.toContain("s3cretPassw0rd");
  });

  test("s3 cp downloads the object byte for byte, into a directory too, and creates the parent", async () => {
    const r = await aws(w, ["s3", "cp", "--region", REGION, `s3://${BUCKET}/${APP_KEY}`, "deep/dir/app.js"]);
    expect(r).toMatchObject({ code: 0, stdout: `download: s3://${BUCKET}/${APP_KEY} to deep/dir/app.js\n` });
    expect(readFileSync(join(w.dir, "deep/dir/app.js"), "utf8")).toBe("console.log('app 1.4.0');\n");
    const quiet = await aws(w, ["s3", "cp", "--only-show-errors", "--region", REGION, `s3://${BUCKET}/${AGENT_KEY}`, "deep/"]);
    expect(quiet).toMatchObject({ code: 0, stdout: "" });
    expect(readFileSync(join(w.dir, "deep/agent.js"), "utf8")).toBe("console.log('agent 1.4.0');\n");
  });

  test("every call is recorded with its exit status, one JSON line each", async () => {
    const fresh = world();
    await aws(fresh, get(AGENT_PARAM));
    await aws(fresh, ["s3", "cp", "s3://x/y", "z"]);
    expect(readAwsCalls(fresh.dataDir)).toEqual([
      { args: get(AGENT_PARAM), exit: 0 },
      { args: ["s3", "cp", "s3://x/y", "z"], exit: 253 },
    ]);
  });
});

describe("writeAwsData", () => {
  test("names become single path components, so /a/b and /a/b/c can both exist", () => {
    expect(encodeName("/aviary/prod/redis/url")).toBe("%2Faviary%2Fprod%2Fredis%2Furl");
    expect(encodeName("100%/x")).toBe("100%25%2Fx");
  });
  test.each<[string, AwsData, RegExp]>([
    ["a region that is not one", { region: "mars-1" }, /not an AWS Region name/],
    ["a bucket name S3 would refuse", { region: REGION, objects: [{ bucket: "Bad_Bucket", key: "k", body: "" }] }, /not an S3 bucket name/],
    ["a key with .. in it", { region: REGION, objects: [{ bucket: BUCKET, key: "releases/../../etc/passwd", body: "" }] }, /cannot be stored as a file/],
  ])("refuses %s", (_what, data, error) => {
    expect(() => writeAwsData(join(tempDir("aviary-awsdata-"), "d"), data)).toThrow(error);
  });
});

describe("the boot scripts' own aws calls, served", () => {
  // The line of a rendered script that reads a parameter into a variable.
  const ssmLine = (script: string, variable: string) => {
    const line = script.split("\n").find((l) => l.startsWith(`${variable}=$(retry aws ssm get-parameter`));
    if (!line) throw new Error(`no ${variable}= ssm line in the script`);
    return line;
  };
  const run = (w: ReturnType<typeof world>, body: string) => bash(`${bootScriptPreamble(join(w.dir, "boot.log"), REGION)}\n${body}`, w.bin);

  test.each([
    ["app (prod)", renderAppUserData({ role: "prod", version: "1.4.0", bucket: BUCKET, key: APP_KEY, appPort: 8080, redisUrlParameterName: URL_PARAM, region: REGION }), "redis_url", REDIS_URL],
    ["app (canary)", renderAppUserData({ role: "canary", version: "1.4.0", bucket: BUCKET, key: APP_KEY, appPort: 8080, redisUrlParameterName: URL_PARAM, region: REGION }), "redis_url", REDIS_URL],
    ["proxy", renderProxyUserData({ appPort: 8080, deployment: "prod", bucket: BUCKET, agentKeyParameterName: AGENT_PARAM, redisUrlParameterName: URL_PARAM, region: REGION, latencyThresholdMs: 500, accessLog: "errors" }), "redis_url", REDIS_URL],
    ["redis", redisUserData({ passwordParameterName: PASSWORD_PARAM, region: REGION }), "password", "s3cretPassw0rd"],
  ])("%s reads its secret with --with-decryption and gets the value", async (_what, script, variable, value) => {
    const w = world();
    const r = await run(w, `${ssmLine(script, variable)}\nprintf '%s' "$${variable}"`);
    expect(r).toMatchObject({ code: 0, stdout: value });
    expect(readAwsCalls(w.dataDir).map((c) => c.exit)).toEqual([0]);
  });

  test("the app's release download gets the object the program uploaded", async () => {
    const w = world();
    const script = renderAppUserData({ role: "prod", version: "1.4.0", bucket: BUCKET, key: APP_KEY, appPort: 8080, redisUrlParameterName: URL_PARAM, region: REGION });
    const line = script.split("\n").find((l) => l.startsWith("retry aws s3 cp"))!;
    const r = await run(w, line.replace("/opt/aviary/app.js", join(w.dir, "app.js")));
    expect(r.code).toBe(0);
    expect(readFileSync(join(w.dir, "app.js"), "utf8")).toBe("console.log('app 1.4.0');\n");
  });

  test("the proxy agent's install script installs the release its parameter names", async () => {
    const w = world();
    const agentPath = join(w.dir, "aviary-agent.js");
    const script = renderAgentInstallScript({ region: REGION, bucket: BUCKET, agentKeyParameterName: AGENT_PARAM, agentPath, logFile: join(w.dir, "install.log") });
    // Up to the unit restart: this host runs no aviary-agent.service.
    const r = await bash(script.slice(0, script.indexOf("systemctl restart")), w.bin);
    expect(r.code).toBe(0);
    expect(readFileSync(agentPath, "utf8")).toBe("console.log('agent 1.4.0');\n");
    expect(readAwsCalls(w.dataDir).map((c) => [c.args.slice(0, 2).join(" "), c.exit])).toEqual([["ssm get-parameter", 0], ["s3 cp", 0]]);
  });

  test("the launch hook is completed with CONTINUE once the real app answers /healthz (IMDS and aws stand-ins)", async () => {
    const w = world();
    const app = http.createServer(createHandler({ version: "1.4.0", role: "prod", instanceId: INSTANCE_ID }) as http.RequestListener);
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
    const imds = await startImds({ host: "127.0.0.1", port: 0, instances: { "127.0.0.1": { instanceId: INSTANCE_ID, localIpv4: "10.77.0.30", region: REGION, availabilityZone: `${REGION}a` } } });
    try {
      const script = renderLaunchHealthWait({ appPort: (app.address() as AddressInfo).port, region: REGION, imdsUrl: imds.url, healthAttempts: 5, healthIntervalSeconds: 1 });
      const r = await bash(`set -euo pipefail\n${script}`, w.bin);
      expect(r).toMatchObject({ code: 0 });
      expect(readCompletedLifecycleActions(w.dataDir, REGION)).toEqual([`${GROUP} ${LAUNCH_HOOK_NAME} ${INSTANCE_ID} CONTINUE`]);
      // Answered once: Auto Scaling has no pending action left for it.
      expect(existsSync(join(w.dataDir, "autoscaling", REGION, "pending", encodeName(GROUP), encodeName(LAUNCH_HOOK_NAME), encodeName(INSTANCE_ID)))).toBe(false);
      const again = await bash(`set -euo pipefail\n${script}`, w.bin);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain("No active Lifecycle Action found");
    } finally {
      await imds.close();
      await new Promise((r) => app.close(r));
    }
  });
});
