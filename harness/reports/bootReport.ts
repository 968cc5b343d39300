// What the boot suite measured, written as JSON so `npm run bench` can put it into BENCHMARKS.md
// without booting the containers again (as the fault suite's table is made).
import * as fs from "node:fs";
import * as path from "node:path";

export interface BootReport {
  at: string;
  /** Whether this run built the cached root (cold) or found it (warm). */
  rootBuilt: boolean;
  /** From the harness's creation to every instance having finished its user data. */
  bootSeconds: number;
  /** The whole suite: harness creation to clean-up done. */
  suiteSeconds: number;
  containers: number;
  /** The cached root's disk usage (du). */
  rootMegabytes: number;
}

export const BOOT_REPORT_FILE = path.resolve(__dirname, "..", "..", "test-output", "boot.json");

export function writeBootReport(report: BootReport): void {
  fs.mkdirSync(path.dirname(BOOT_REPORT_FILE), { recursive: true });
  fs.writeFileSync(BOOT_REPORT_FILE, JSON.stringify(report, null, 2));
}

export function readBootReport(file: string): BootReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as BootReport;
  } catch {
    return undefined;
  }
}
