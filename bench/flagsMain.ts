// `npm run bench:flags`: only the feature-flag section; replaces that section of BENCHMARKS.md.
import { replaceSection } from "./benchmarksFile";
import { benchFlags } from "./flags";

async function main(): Promise<void> {
  const section = await benchFlags();
  console.log(section);
  replaceSection("## Feature flags", section);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
