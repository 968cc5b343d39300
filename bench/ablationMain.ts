// `npm run bench:ablation`: only what each proxy feature costs (about 5 minutes); replaces that section of BENCHMARKS.md.
import { benchAblation } from "./ablation";
import { writeSection } from "./benchmarksFile";
import { runBench } from "./processes";

async function main(): Promise<void> {
  const section = await benchAblation();
  console.log(section);
  writeSection("What each proxy feature costs", section, "Feature flags");
}

runBench(main);
