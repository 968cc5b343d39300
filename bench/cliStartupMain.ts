// `npm run bench:cli`: only the CLI startup section; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { benchCliStartup } from "./cliStartup";

async function main(): Promise<void> {
  const section = await benchCliStartup();
  console.log(section);
  writeSection("CLI startup", section, "Fault suite");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
