// The problem lines parseStackConfig reports for a raw config ([] when it parses), for table tests.
import { parseStackConfig, StackConfigError, type RawConfig } from "../../core/config/stackConfig";

export function stackConfigProblems(raw: RawConfig): string[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (e instanceof StackConfigError) return e.problems;
    throw e;
  }
  return [];
}
