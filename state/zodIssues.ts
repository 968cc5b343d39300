import type { z } from "zod";

/** One "path: message" line per zod issue, so errors name the offending field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}
