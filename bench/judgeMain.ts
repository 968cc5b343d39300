// `npm run bench:judge`: only the canary judge section; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { benchJudge } from "./judge";
import { runBench } from "./processes";

async function main(): Promise<void> {
  const section = await benchJudge();
  console.log(section);
  writeSection("Canary judge", section, "Rollback and scale-out");
}

runBench(main);
