// The canary stack checks its config against the prod stack it references, before it registers
// anything: the proxy's latency histogram is bounded at prod's canaryP99Ms.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { checkCanaryAgainstProd } from "../../../core/config/crossStack";
import { readStackFile } from "../../../config/stackFile";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";
import { runUnderMocks } from "../../../harness/pulumiMocks";

const canary = { prodStack: "my-org/aviary/prod", thresholds: { scaleOutCpu: 70, scaleInCpu: 25, memory: 85, canaryErrorRate: 5, canaryP99Ms: 1500 } };

describe("checkCanaryAgainstProd", () => {
  test.each([
    ["the same p99 bound", 1500, undefined],
    ["a different p99 bound, naming both values and the prod stack", 1200, /aviary:thresholds\.canaryP99Ms: 1500 in this canary stack but 1200 in the prod stack my-org\/aviary\/prod/],
    ["a prod stack that exports no bound", undefined, /aviary:prodStack: my-org\/aviary\/prod exports no canaryP99Ms .*run `pulumi up` on the prod stack first/],
    ["a bound of the wrong type", "1500", /exports no canaryP99Ms \(got "1500"\)/],
  ])("%s", (_, prodValue, error) => {
    const check = () => checkCanaryAgainstProd(canary, { canaryP99Ms: prodValue });
    if (error) expect(check).toThrow(error);
    else expect(check).not.toThrow();
  });
});

describe("the canary program against its prod stack", () => {
  const config = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
  test("a canaryP99Ms that differs from prod's fails naming both, and registers nothing", async () => {
    const run = await runUnderMocks(() => require("../../../index"), {
      stack: "canary",
      config,
      stackReferenceOutputs: { ...PROD_STACK_OUTPUTS, canaryP99Ms: 900 },
      captureError: true,
    });
    expect(String(run.error)).toMatch(/aviary:thresholds\.canaryP99Ms: 1500 in this canary stack but 900 in the prod stack organization\/aviary\/prod/);
    expect(run.resources).toEqual([]);
  });
});
