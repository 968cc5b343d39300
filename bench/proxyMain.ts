// `npm run bench:proxy`: only the proxy comparison (about 6 minutes); replaces that part of BENCHMARKS.md.
import fs from "node:fs";
import { BENCHMARKS_FILE } from "./benchmarksFile";
import { runBench } from "./processes";
import { benchProxy } from "./proxy";

async function main(): Promise<void> {
  const { section } = await benchProxy();
  console.log(section);
  const file = BENCHMARKS_FILE;
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const NOTE = "\n_The proxy part below is from `npm run bench:proxy`";
  // An earlier bench:proxy note goes too: the part starts at it, or at "## Setup" after a full run.
  const start = current.includes(NOTE) ? current.indexOf(NOTE) : current.indexOf("\n## Setup");
  const end = current.indexOf("\n## Feature flags");
  const note = `${NOTE.slice(1)}, ${new Date().toISOString()}; the other sections are from the full run dated under Machine._\n`;
  fs.writeFileSync(file, start >= 0 && end > start ? `${current.slice(0, start)}\n${note}\n${section}${current.slice(end)}` : `${current.trimEnd()}\n\n${note}\n${section}`);
}

runBench(main);
