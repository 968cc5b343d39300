// Results of the fault suite (tests/faults), written as JSON so `npm run bench` can put the table
// into BENCHMARKS.md without running the faults again.
import * as fs from "node:fs";
import * as path from "node:path";

export interface FaultResult {
  fault: string;
  /** Client requests answered 2xx–4xx while the fault and the recovery ran. */
  served: number;
  /** Client requests answered 5xx or not at all. */
  failed: number;
  /** What the stack looked like once recovered. */
  after: string;
  /** Whether every earlier event and every flag was still there afterwards. */
  intact: string;
  seconds: number;
}

export interface FaultReport {
  at: string;
  results: FaultResult[];
}

export const FAULT_REPORT_FILE = path.resolve(__dirname, "..", "..", "test-output", "faults.json");

export function writeFaultReport(results: FaultResult[]): void {
  fs.mkdirSync(path.dirname(FAULT_REPORT_FILE), { recursive: true });
  const report: FaultReport = { at: new Date().toISOString(), results };
  fs.writeFileSync(FAULT_REPORT_FILE, JSON.stringify(report, null, 2));
}

export function readFaultReport(file = FAULT_REPORT_FILE): FaultReport | undefined {
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as FaultReport;
}
