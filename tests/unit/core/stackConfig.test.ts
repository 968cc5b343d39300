import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { aviaryKeys, parseStackConfig, StackConfigError } from "../../../core/config/stackConfig";
import { readStackFile } from "../../../config/stackFile";
import { runUnderMocks } from "../../../harness/pulumiMocks";

const root = join(REPO_ROOT);
const prod = readStackFile(join(root, "Pulumi.prod.yaml"));
const canary = readStackFile(join(root, "Pulumi.canary.yaml"));

describe("committed stack files", () => {
  test("prod parses to the values written in Pulumi.prod.yaml", () => {
    const cfg = parseStackConfig(aviaryKeys(prod));
    expect(cfg.role).toBe("prod");
    if (cfg.role !== "prod") throw new Error("unreachable");
    expect(cfg.prodFleet).toEqual({ min: 2, max: 6, desired: 3 });
    expect(cfg.alerts.sms).toEqual(["+14155550123"]);
  });
  test("prod defaults to the single-instance layout: one proxy, Redis on EC2", () => {
    const cfg = parseStackConfig(aviaryKeys(prod));
    expect(cfg).toMatchObject({ proxy: { count: 1, accessLog: "errors" }, redis: { mode: "ec2" } });
  });
  test("layout switches parse (numbers from strings too)", () => {
    const cfg = parseStackConfig(aviaryKeys({ ...prod, "aviary:proxy": JSON.stringify({ count: "3", accessLog: "all" }), "aviary:redis": JSON.stringify({ mode: "elasticache", nodeType: "cache.r7g.large" }) }));
    expect(cfg).toMatchObject({ proxy: { count: 3, accessLog: "all" }, redis: { mode: "elasticache", nodeType: "cache.r7g.large" } });
  });
  test("canary parses with its weight and prod stack", () => {
    const cfg = parseStackConfig(aviaryKeys(canary));
    expect(cfg).toMatchObject({ role: "canary", canaryWeight: 25, prodStack: "organization/aviary/prod", canaryCount: 1 });
  });
});

type Case = [string, "prod" | "canary", Record<string, string>, RegExp];
const json = JSON.stringify;
const invalid: Case[] = [
  ["missing role", "prod", { "aviary:role": "" }, /aviary:role: must be "prod" or "canary"/],
  ["unknown role", "prod", { "aviary:role": "staging" }, /aviary:role: must be "prod" or "canary"/],
  ["canaryWeight above 100", "canary", { "aviary:canaryWeight": "150" }, /aviary:canaryWeight: must be an integer from 0 to 100/],
  ["canaryWeight negative", "canary", { "aviary:canaryWeight": "-1" }, /aviary:canaryWeight: must be an integer from 0 to 100/],
  ["canaryWeight not an integer", "canary", { "aviary:canaryWeight": "12.5" }, /aviary:canaryWeight: must be an integer/],
  ["canaryWeight not a number", "canary", { "aviary:canaryWeight": "lots" }, /aviary:canaryWeight: must be an integer/],
  ["min above desired", "prod", { "aviary:prodFleet": json({ min: 4, max: 6, desired: 3 }) }, /aviary:prodFleet: must satisfy min <= desired <= max/],
  ["desired above max", "prod", { "aviary:prodFleet": json({ min: 1, max: 2, desired: 3 }) }, /aviary:prodFleet: must satisfy min <= desired <= max/],
  ["prodFleet missing", "prod", { "aviary:prodFleet": "" }, /aviary:prodFleet/],
  ["email that is not an address", "prod", { "aviary:alerts": json({ emails: ["oncall-at-example"] }) }, /aviary:alerts\.emails\.0: must be an email address/],
  ["sms not E.164", "prod", { "aviary:alerts": json({ sms: ["415-555-0123"] }) }, /aviary:alerts\.sms\.0: must be an E\.164 phone number/],
  ["cpu threshold out of range", "prod", { "aviary:thresholds": json({ scaleOutCpu: 150 }) }, /aviary:thresholds\.scaleOutCpu: must be a number from 1 to 100/],
  ["scale-in above scale-out", "prod", { "aviary:thresholds": json({ scaleOutCpu: 50, scaleInCpu: 60 }) }, /aviary:thresholds: scaleInCpu must be below scaleOutCpu/],
  ["error rate out of range", "canary", { "aviary:thresholds": json({ canaryErrorRate: 0 }) }, /aviary:thresholds\.canaryErrorRate: must be a number from 0.1 to 100/],
  ["unknown threshold", "prod", { "aviary:thresholds": json({ cpu: 70 }) }, /aviary:thresholds: .*cpu/i],
  ["prodStack missing on canary", "canary", { "aviary:prodStack": "" }, /aviary:prodStack: is required/],
  ["prodStack not fully qualified", "canary", { "aviary:prodStack": "prod" }, /aviary:prodStack: must be the prod stack's fully qualified name <organization>\/<project>\/<stack>/],
  ["prodStack with org only", "canary", { "aviary:prodStack": "my-org/prod" }, /aviary:prodStack: must be the prod stack's fully qualified name/],
  ["prodFleet.max past the proxy's slots", "prod", { "aviary:prodFleet": json({ min: 2, max: 21, desired: 3 }) }, /aviary:prodFleet\.max: must be an integer from 1 to 20 \(the proxy's production server slots\)/],
  ["canaryCount past the proxy's canary slots", "canary", { "aviary:canaryCount": "11" }, /aviary:canaryCount: must be an integer from 1 to 10 \(the proxy's canary server slots\)/],
  ["misspelt key", "prod", { "aviary:canaryWieght": "10" }, /aviary:canaryWieght: is not an Aviary config key/],
  ["canary key on prod", "prod", { "aviary:canaryWeight": "10" }, /canaryWeight/],
  ["bad instance type", "prod", { "aviary:instanceType": "big" }, /aviary:instanceType: must be an EC2 instance type/],
  ["bad app version", "canary", { "aviary:appVersion": "1.0 beta" }, /aviary:appVersion: must be a version label/],
  ["proxy count zero", "prod", { "aviary:proxy": json({ count: 0 }) }, /aviary:proxy\.count: must be an integer from 1 to 20/],
  ["proxy count not an integer", "prod", { "aviary:proxy": json({ count: 2.5 }) }, /aviary:proxy\.count: must be an integer from 1 to 20/],
  ["proxy accessLog unknown", "prod", { "aviary:proxy": json({ accessLog: "debug" }) }, /aviary:proxy\.accessLog: must be "errors" or "all"/],
  ["misspelt proxy key", "prod", { "aviary:proxy": json({ cout: 3 }) }, /aviary:proxy: unknown field "cout"/],
  ["unknown redis mode", "prod", { "aviary:redis": json({ mode: "memcached" }) }, /aviary:redis\.mode: must be "ec2" or "elasticache"/],
  ["bad cache node type", "prod", { "aviary:redis": json({ mode: "elasticache", nodeType: "t4g.small" }) }, /aviary:redis\.nodeType: must be an ElastiCache node type/],
  ["node type without elasticache", "prod", { "aviary:redis": json({ nodeType: "cache.t4g.small" }) }, /aviary:redis: nodeType applies only to mode elasticache/],
  ["misspelt redis key", "prod", { "aviary:redis": json({ mode: "elasticache", nodetype: "cache.t4g.small" }) }, /aviary:redis: unknown field "nodetype"/],
  ["layout keys on canary", "canary", { "aviary:redis": json({ mode: "elasticache" }) }, /aviary:redis: is not a key of the canary stack/],
  ["rollout weights not increasing", "canary", { "aviary:rollout": json({ steps: [{ weight: 25, pauseSeconds: 60 }, { weight: 5, pauseSeconds: 60 }] }) }, /aviary:rollout\.steps\.1\.weight: must be greater than the previous step's weight \(25\)/],
  ["canaryWeight contradicting the rollout", "canary", { "aviary:rollout": json({ steps: [{ weight: 5, pauseSeconds: 60 }] }) }, /aviary:canaryWeight: contradicts aviary:rollout, whose first step's weight is 5/],
  ["rollout on prod", "prod", { "aviary:rollout": json({ steps: [{ weight: 5, pauseSeconds: 60 }] }) }, /aviary:rollout: is not a key of the prod stack/],
  ["structured key that is not an object", "prod", { "aviary:alerts": "oncall@example.com" }, /aviary:alerts: must be a YAML object/],
];

describe("invalid config fails the program before any resource is registered", () => {
  test.each(invalid)("%s", async (_name, stack, change, message) => {
    const base = stack === "prod" ? prod : canary;
    const config = Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, v]) => v !== ""));
    let run: Awaited<ReturnType<typeof runUnderMocks>> | undefined;
    await jest.isolateModulesAsync(async () => {
      run = await runUnderMocks(() => require("../../../index"), { stack, config, captureError: true });
    });
    const error = run?.error as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(StackConfigError.name);
    expect(error.message).toMatch(message);
    expect(run?.resources).toEqual([]);
  });
});
