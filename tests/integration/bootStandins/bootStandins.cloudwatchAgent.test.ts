// The CloudWatch agent ctl stand-in, run by bash: the app boot script's own call with its own
// configuration is recorded; wrong usage and a configuration that is not the agent's fail.
import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cloudWatchAgentConfig, renderAppUserData } from "../../../components/appUserData";
import { readCloudWatchAgentRecord, renderCloudWatchAgentCtl } from "../../../boot/standins/cloudwatchAgent";
import { tempDir } from "../../support/tempDir";

function setUp(): { dir: string; ctl: string; rec: string } {
  const dir = tempDir("aviary-cwagent-");
  const rec = join(dir, "record");
  const ctl = join(dir, "amazon-cloudwatch-agent-ctl");
  writeFileSync(ctl, renderCloudWatchAgentCtl({ recordDir: rec }));
  chmodSync(ctl, 0o755);
  return { dir, ctl, rec };
}

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH! }, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });
}

test("the app script's call, with the configuration it writes, is recorded and the agent marked running", async () => {
  const { dir, ctl, rec } = setUp();
  const script = renderAppUserData({ role: "prod", version: "1.0.0", bucket: "b-123", key: "k", appPort: 8080, redisUrlParameterName: "/p", region: "eu-west-1" });
  const call = script.split("\n").find((l) => l.includes("amazon-cloudwatch-agent-ctl"))!;
  const config = join(dir, "aviary.json");
  writeFileSync(config, cloudWatchAgentConfig("prod"));
  const args = call.split(" ").slice(1).map((a) => a.replace("file:/opt/aws/amazon-cloudwatch-agent/etc/aviary.json", `file:${config}`));
  expect(args).toEqual(["-a", "fetch-config", "-m", "ec2", "-s", "-c", `file:${config}`]);
  const r = await run(ctl, args);
  expect(r.code).toBe(0);
  const record = readCloudWatchAgentRecord(rec);
  expect(record.config).toEqual(JSON.parse(cloudWatchAgentConfig("prod")));
  expect(record.status).toBe("running");
  expect(record.calls).toEqual([{ args, exit: 0 }]);
});

test("without -s the configuration is fetched but the agent is not restarted", async () => {
  const { dir, ctl, rec } = setUp();
  writeFileSync(join(dir, "c.json"), cloudWatchAgentConfig("canary"));
  expect((await run(ctl, ["-a", "fetch-config", "-m", "ec2", "-c", `file:${join(dir, "c.json")}`])).code).toBe(0);
  expect(readCloudWatchAgentRecord(rec).status).toBe("stopped");
});

test("as the real ctl: -m defaults to ec2, an unknown option is reported and ignored, a stray argument too", async () => {
  const { dir, ctl, rec } = setUp();
  writeFileSync(join(dir, "ok.json"), cloudWatchAgentConfig("prod"));
  const r = await run(ctl, ["-a", "fetch-config", "-x", "-s", "-c", `file:${join(dir, "ok.json")}`, "extra"]);
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("Invalid option: -x");
  expect(readCloudWatchAgentRecord(rec)).toMatchObject({ status: "running", config: JSON.parse(cloudWatchAgentConfig("prod")) });
});

describe("wrong usage fails, nothing is recorded as fetched", () => {
  test.each<[string, (dir: string) => string[], string]>([
    ["no action", (d) => ["-m", "ec2", "-c", `file:${d}/ok.json`], "Invalid action: "],
    ["an unknown action", (d) => ["-a", "reload", "-m", "ec2", "-c", `file:${d}/ok.json`], "Invalid action: reload"],
    ["an action the stand-in does not serve", (d) => ["-a", "append-config", "-m", "ec2", "-c", `file:${d}/ok.json`], "unsupported action -a append-config"],
    ["an unknown mode", (d) => ["-a", "fetch-config", "-m", "lambda", "-c", `file:${d}/ok.json`], "Invalid mode: lambda"],
    ["an option without its argument", () => ["-a", "fetch-config", "-m", "ec2", "-c"], "Option -c requires an argument"],
    ["no configuration (default, not served)", () => ["-a", "fetch-config", "-m", "ec2", "-s"], "unsupported configuration -c default"],
    ["a path without file:", (d) => ["-a", "fetch-config", "-m", "ec2", "-c", `${d}/ok.json`], "unsupported configuration"],
    ["a configuration from SSM (not served)", () => ["-a", "fetch-config", "-m", "ec2", "-c", "ssm:AmazonCloudWatch-linux"], "unsupported configuration"],
    ["a missing file", (d) => ["-a", "fetch-config", "-m", "ec2", "-c", `file:${d}/nope.json`], "does not exist"],
    ["a file that is not JSON", (d) => ["-a", "fetch-config", "-m", "ec2", "-c", `file:${d}/broken.json`], "is not a CloudWatch agent configuration"],
    ["JSON with a section the agent does not have", (d) => ["-a", "fetch-config", "-m", "ec2", "-c", `file:${d}/alien.json`], "is not a CloudWatch agent configuration"],
    ["metrics_collected that is not an object", (d) => ["-a", "fetch-config", "-m", "ec2", "-c", `file:${d}/list.json`], "is not a CloudWatch agent configuration"],
  ])("%s", async (_what, args, message) => {
    const { dir, ctl, rec } = setUp();
    writeFileSync(join(dir, "ok.json"), cloudWatchAgentConfig("prod"));
    writeFileSync(join(dir, "broken.json"), "{ \"metrics\": ");
    writeFileSync(join(dir, "alien.json"), JSON.stringify({ metrics: {}, dashboards: {} }));
    writeFileSync(join(dir, "list.json"), JSON.stringify({ metrics: { metrics_collected: ["mem"] } }));
    const r = await run(ctl, args(dir));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
    const record = readCloudWatchAgentRecord(rec);
    expect(record.config).toBeUndefined();
    expect(record.calls.map((c) => c.exit)).toEqual([1]);
  });
});
