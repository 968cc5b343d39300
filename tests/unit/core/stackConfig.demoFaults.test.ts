// aviary:demoFaults: off unless the stack says true; what it does to the instances' app unit.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { aviaryKeys, parseStackConfig, StackConfigError } from "../../../core/config/stackConfig";
import { readStackFile } from "../../../config/stackFile";
import { runUnderMocks } from "../../../harness/pulumiMocks";

const root = join(REPO_ROOT);
const prod = readStackFile(join(root, "Pulumi.prod.yaml"));
const canary = readStackFile(join(root, "Pulumi.canary.yaml"));

describe("aviary:demoFaults", () => {
  test.each([["prod", prod], ["canary", canary]])("%s: off when the stack does not set it", (_, file) => {
    expect(parseStackConfig(aviaryKeys(file)).demoFaults).toBe(false);
  });

  test.each([["true", true], ["false", false]])("%s (as Pulumi passes a YAML boolean)", (raw, value) => {
    expect(parseStackConfig(aviaryKeys({ ...prod, "aviary:demoFaults": raw })).demoFaults).toBe(value);
    expect(parseStackConfig(aviaryKeys({ ...canary, "aviary:demoFaults": raw })).demoFaults).toBe(value);
  });

  test.each(["yes", "on", "1", ""])("%j is refused, naming the key", (raw) => {
    const parse = () => parseStackConfig(aviaryKeys({ ...prod, "aviary:demoFaults": raw }));
    expect(parse).toThrow(StackConfigError);
    expect(parse).toThrow(/aviary:demoFaults: must be true or false/);
  });
});

describe("the prod fleet's launch template follows aviary:demoFaults", () => {
  async function appUnitFaults(extra: Record<string, string>): Promise<string[]> {
    let lines: string[] = [];
    await jest.isolateModulesAsync(async () => {
      const run = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: { ...prod, ...extra } });
      const script = Buffer.from(run.one("aws:ec2/launchTemplate:LaunchTemplate").inputs.userData as string, "base64").toString("utf8");
      lines = script.split("\n").filter((l) => l.startsWith("Environment=AVIARY_DEMO_FAULTS="));
    });
    return lines;
  }
  test("unset: the app ignores the demo-* flags", async () => {
    expect(await appUnitFaults({})).toEqual(["Environment=AVIARY_DEMO_FAULTS=off"]);
  });
  test("true: the app honours them", async () => {
    expect(await appUnitFaults({ "aviary:demoFaults": "true" })).toEqual(["Environment=AVIARY_DEMO_FAULTS=on"]);
  });
});
