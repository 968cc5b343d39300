// aviary:proxy.testerRouting: off unless the prod stack says true; what it does to the proxies' HAProxy config.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { aviaryKeys, parseStackConfig, StackConfigError } from "../../../core/config/stackConfig";
import { readStackFile } from "../../../config/stackFile";
import { TESTER_COOKIE, TESTER_HEADER } from "../../../haproxy/config";
import { runUnderMocks } from "../../../harness/pulumiMocks";

const prod = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const canary = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
const proxy = (fields: Record<string, unknown>) => ({ ...prod, "aviary:proxy": JSON.stringify(fields) });
const testerRouting = (raw: Record<string, string>): boolean => {
  const cfg = parseStackConfig(aviaryKeys(raw));
  if (cfg.role !== "prod") throw new Error("expected the prod stack");
  return cfg.proxy.testerRouting;
};

describe("aviary:proxy.testerRouting", () => {
  test("off when the stack does not set it (the shipped prod stack included)", () => {
    expect(testerRouting(prod)).toBe(false);
    expect(testerRouting(proxy({ count: 1 }))).toBe(false);
  });

  test.each([[true, true], [false, false], ["true", true], ["false", false]])("%j (a YAML boolean inside the object, or as a string)", (raw, value) => {
    expect(testerRouting(proxy({ testerRouting: raw }))).toBe(value);
  });

  test.each(["yes", 1, "on", null])("%j is refused, naming the field", (raw) => {
    const parse = () => parseStackConfig(aviaryKeys(proxy({ testerRouting: raw })));
    expect(parse).toThrow(StackConfigError);
    expect(parse).toThrow(/aviary:proxy\.testerRouting: must be true or false/);
  });

  test("the canary stack has no proxy to route", () => {
    expect(() => parseStackConfig(aviaryKeys({ ...canary, "aviary:proxy": JSON.stringify({ testerRouting: true }) }))).toThrow(/aviary:proxy: is not a key of the canary stack/);
  });
});

describe("the proxies' HAProxy config follows aviary:proxy.testerRouting", () => {
  /** The proxy boot scripts' tester rules: the single instance's user data, or the proxy launch template's. */
  async function testerRules(fields: Record<string, unknown> | undefined): Promise<string[]> {
    let lines: string[] = [];
    await jest.isolateModulesAsync(async () => {
      const run = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: fields ? proxy(fields) : prod });
      const instance = run.ofType("aws:ec2/instance:Instance").find((i) => i.inputs.tags?.["aviary:role"] === "proxy");
      const template = run.ofType("aws:ec2/launchTemplate:LaunchTemplate").find((t) => t.name === "proxy");
      const script = instance ? String(instance.inputs.userData) : Buffer.from(String(template?.inputs.userData), "base64").toString("utf8");
      expect(script).toContain("ignore-persist if { req.cook(AVIARY_V) -m str canary1 } { srv_weight(app/canary1) eq 0 }");
      lines = script.split("\n").filter((l) => l.includes(TESTER_HEADER) || l.includes(TESTER_COOKIE) || l.startsWith("    use-server "));
    });
    return lines;
  }

  test("unset: no tester rule", async () => {
    expect(await testerRules(undefined)).toEqual([]);
  });

  test.each([[{ testerRouting: true }], [{ testerRouting: true, count: 3 }]])("%j: the header and the cookie pick a canary slot", async (fields) => {
    const lines = await testerRules(fields);
    expect(lines).toContain(`    acl aviary_tester req.hdr(${TESTER_HEADER}) -m str 1`);
    expect(lines).toContain(`    acl aviary_tester req.cook(${TESTER_COOKIE}) -m str 1`);
    expect(lines).toContain("    use-server canary1 if aviary_tester");
    expect(lines.filter((l) => l.startsWith("    use-server ")).every((l) => / use-server canary\d+ if aviary_tester/.test(l))).toBe(true);
  });
});
