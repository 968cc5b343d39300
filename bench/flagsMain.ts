// `npm run bench:flags`: only the feature-flag section; replaces that section of BENCHMARKS.md.
import { replaceSection } from "./benchmarksFile";
import { benchFlags } from "./flags";
import { runBench } from "./processes";

async function main(): Promise<void> {
  const section = await benchFlags();
  console.log(section);
  replaceSection("## Feature flags", section);
}

runBench(main);
