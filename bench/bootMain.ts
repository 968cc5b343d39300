// `npm run bench:boot`: only the boot suite's figures, from the last `npm run test:boot`; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { bootSection } from "./boot";

const section = bootSection();
console.log(section);
writeSection("Boot suite", section);
