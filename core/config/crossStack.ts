// Rules between the canary stack's config and what its prod stack exports (read through the
// StackReference before the canary registers anything). Pure, so it is table-tested.
import { StackConfigError, type CanaryConfig } from "./stackConfig";

/** The prod stack outputs these rules read. */
export interface ProdExports {
  canaryP99Ms?: unknown;
}

/** Throws a StackConfigError naming both stacks' values when the canary contradicts its prod stack. */
export function checkCanaryAgainstProd(canary: Pick<CanaryConfig, "prodStack" | "thresholds">, prod: ProdExports): void {
  const problems: string[] = [];
  const mine = canary.thresholds.canaryP99Ms;
  if (typeof prod.canaryP99Ms !== "number") {
    problems.push(`aviary:prodStack: ${canary.prodStack} exports no canaryP99Ms (got ${JSON.stringify(prod.canaryP99Ms)}); run \`pulumi up\` on the prod stack first`);
  } else if (prod.canaryP99Ms !== mine) {
    // The proxy's latency histogram has a bucket bound at prod's value: the p99 alarm is exact only there.
    problems.push(`aviary:thresholds.canaryP99Ms: ${mine} in this canary stack but ${prod.canaryP99Ms} in the prod stack ${canary.prodStack}; the proxy measures the canary's p99 against prod's value, so set both to the same number`);
  }
  if (problems.length > 0) throw new StackConfigError(problems);
}
