// `npm run bench:proxy`: only the proxy comparison (about 6 minutes); replaces that part of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { runBench } from "./processes";
import { benchProxy } from "./proxy";

async function main(): Promise<void> {
  const { section } = await benchProxy();
  console.log(section);
  // Setup to Propagation: the sections benchProxy writes, dated, since the rest of the file is older.
  const note = `_The proxy part (Setup to Propagation) is from \`npm run bench:proxy\`, ${new Date().toISOString()}; the other sections are from the full run dated under Machine._`;
  writeSection("Setup", section.replace(/^## Setup\n/, `## Setup\n\n${note}\n`), "What each proxy feature costs");
}

runBench(main);
