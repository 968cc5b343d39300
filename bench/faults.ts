// The fault suite's results table. The suite itself (`npm run test:faults`) writes them to
// test-output/faults.json; the bench renders the last run rather than running the faults again.
import * as path from "node:path";
import { readFaultReport } from "../tests/support/faultReport";

// Via "..": resolves the same from bench/ and from the bundle in dist/.
const REPORT = path.resolve(__dirname, "..", "test-output", "faults.json");

export function faultsSection(): string {
  const report = readFaultReport(REPORT);
  const head = "## Fault suite (local stack under load)\n\n";
  if (!report) return `${head}No results yet: run \`npm run test:faults\` (it writes test-output/faults.json), then \`npm run bench\`.\n`;
  const rows = report.results.map((r) => `| ${r.fault} | ${r.served} | ${r.failed} | ${r.after} | ${r.intact} | ${r.seconds} |`);
  return `${head}From the last \`npm run test:faults\` (\`tests/faults/localStack.faults.test.ts\`), ${report.at}: the whole local stack (\`startLocalStack\`, loopback only) under 2 keep-alive clients (\`local/load.ts\`, at most 40,000 requests per fault), one fault at a time. "Failed" is a client request answered 5xx or not at all; "intact" compares every event id and every flag definition before the fault with after the recovery. The suite asserts each row (failed requests, recovered state, nothing lost); a failing assertion fails the suite, so a row here is a passing one.

| fault | served | failed | state after recovery | event log and flags | seconds |
|---|---|---|---|---|---|
${rows.join("\n")}
`;
}
