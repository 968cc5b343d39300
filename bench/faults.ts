// The fault suites' results table. The suites (`npm run test:faults`) write them to
// test-output/faults/<suite>.json; the bench renders the last run rather than running the faults again.
import * as path from "node:path";
import { readFaultReports } from "../harness/reports/faultReport";

// Via "..": resolves the same from bench/ and from the bundle in dist/.
const REPORTS = path.resolve(__dirname, "..", "test-output", "faults");

export function faultsSection(): string {
  const reports = readFaultReports(REPORTS);
  const head = "## Fault suite (local stack under load)\n\n";
  if (!reports) return `${head}No results yet: run \`npm run test:faults\` (it writes test-output/faults/), then \`npm run bench\`.\n`;
  const rows = reports.flatMap(({ report }) => report.results).map((r) => `| ${r.fault} | ${r.served} | ${r.failed} | ${r.after} | ${r.intact} | ${r.seconds} |`);
  const runs = reports.map(({ suite, report }) => `\`tests/faults/${suite}.faults.test.ts\` ${report.at}`).join(", ");
  return `${head}From the last \`npm run test:faults\` (${runs}): the whole local stack (\`startLocalStack\`, loopback only) under 2 keep-alive clients (\`harness/load.ts\`, at most 40,000 requests per fault), one fault at a time; the registry rows run redis-server, HAProxy, the agent and four sample apps under 4 clients. The invariant rows assert the canary's share in every 1-second window with at least 20 (registry: 50) answers is at most its weight + 3 points. "Failed" is a client request answered 5xx or not at all; "intact" compares every event id and every flag definition before the fault with after the recovery. The suite asserts each row (failed requests, recovered state, nothing lost); a failing assertion fails the suite, so a row here is a passing one.

| fault | served | failed | state after recovery | event log and flags | seconds |
|---|---|---|---|---|---|
${rows.join("\n")}
`;
}
