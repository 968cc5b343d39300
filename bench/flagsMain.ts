// `npm run bench:flags`: only the feature-flag section; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { benchFlags } from "./flags";
import { runBench } from "./processes";

async function main(): Promise<void> {
  const section = await benchFlags();
  console.log(section);
  writeSection("Feature flags", section);
}

runBench(main);
