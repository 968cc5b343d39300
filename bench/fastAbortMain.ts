// `npm run bench:fastabort`: only the fast-abort section; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { benchFastAbort } from "./fastAbort";
import { runBench } from "./processes";

async function main(): Promise<void> {
  const section = await benchFastAbort();
  console.log(section);
  writeSection("Fast abort in the proxy", section, "Rollback and scale-out");
}

runBench(main);
