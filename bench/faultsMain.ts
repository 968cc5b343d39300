// `npm run bench:faults`: only the fault table, from the last `npm run test:faults`; replaces that section of BENCHMARKS.md.
import { writeSection } from "./benchmarksFile";
import { faultsSection } from "./faults";

const section = faultsSection();
console.log(section);
writeSection("Fault suite", section, "Malformed and oversized HTTP requests");
