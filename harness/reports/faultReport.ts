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

/** One JSON file per fault-suite file, so suites that run in any order never overwrite each other. */
export const FAULT_REPORT_DIR = path.resolve(__dirname, "..", "..", "test-output", "faults");

export function writeFaultReport(suite: string, results: FaultResult[]): void {
  fs.mkdirSync(FAULT_REPORT_DIR, { recursive: true });
  const report: FaultReport = { at: new Date().toISOString(), results };
  fs.writeFileSync(path.join(FAULT_REPORT_DIR, `${suite}.json`), JSON.stringify(report, null, 2));
}

/** Every suite's last report, by suite name; undefined when no suite has run. */
export function readFaultReports(dir = FAULT_REPORT_DIR): { suite: string; report: FaultReport }[] | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) return undefined;
  return files.map((f) => ({ suite: f.replace(/\.json$/, ""), report: JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as FaultReport }));
}
