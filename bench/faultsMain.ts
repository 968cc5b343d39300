// `npm run bench:faults`: only the fault table, from the last `npm run test:faults`; replaces that section of BENCHMARKS.md.
import { replaceSection } from "./benchmarksFile";
import { faultsSection } from "./faults";

const section = faultsSection();
console.log(section);
replaceSection("## Fault suite (local stack under load)", section, "## Malformed and oversized HTTP requests");
