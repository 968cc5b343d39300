// BENCHMARKS.md, for the entry points that refresh one section of it (bench:flags, bench:ablation).
import fs from "node:fs";
import path from "node:path";
import { benchQuick } from "./quick";

/** BENCHMARKS.md; a quick run's figures go to an ignored file instead, so they never replace a full run's. */
export const BENCHMARKS_FILE = benchQuick()
  ? path.join(__dirname, "..", "test-output", "BENCHMARKS.quick.md")
  : path.join(__dirname, "..", "BENCHMARKS.md");

/**
 * Replaces the top-level section starting with `heading` (up to the next "## "); without one, puts
 * it before the section headed `before`, or at the end.
 */
export function replaceSection(heading: string, section: string, before?: string): void {
  fs.mkdirSync(path.dirname(BENCHMARKS_FILE), { recursive: true });
  const current = fs.existsSync(BENCHMARKS_FILE) ? fs.readFileSync(BENCHMARKS_FILE, "utf8") : "";
  if (!current.includes(`\n${heading}`) && before !== undefined && current.includes(`\n${before}`)) {
    const at = current.indexOf(`\n${before}`);
    fs.writeFileSync(BENCHMARKS_FILE, `${current.slice(0, at).trimEnd()}\n\n${section}${current.slice(at)}`);
    return;
  }
  const start = current.indexOf(`\n${heading}`);
  const head = (start >= 0 ? current.slice(0, start) : current).trimEnd();
  const nextTop = start >= 0 ? current.indexOf("\n## ", start + 1) : -1;
  const tail = nextTop >= 0 ? current.slice(nextTop) : "";
  fs.writeFileSync(BENCHMARKS_FILE, `${head}\n\n${section}${tail}`);
}
