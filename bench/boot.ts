// The boot suite's figures. `npm run test:boot` writes them to test-output/boot.json; the bench
// renders the last run rather than booting the containers again.
import * as path from "node:path";
import { readBootReport } from "../harness/reports/bootReport";

// Via "..": resolves the same from bench/ and from the bundle in dist/.
const REPORT = path.resolve(__dirname, "..", "test-output", "boot.json");

export function bootSection(): string {
  const head = "## Boot suite\n\n";
  const r = readBootReport(REPORT);
  if (!r) return `${head}No results yet: run \`npm run test:boot\` (it writes test-output/boot.json), then \`npm run bench\`.\n`;
  return `${head}From the last \`npm run test:boot\` (tests/boot/topology.boot.test.ts, ${r.at}): ${r.containers} \`systemd-nspawn --boot\` containers (Redis, prod, canary, proxy, and a proxy with the old drop-in) booted from their rendered user data in **${r.bootSeconds.toFixed(1)} s** (harness created to every user data finished), the whole suite in **${r.suiteSeconds.toFixed(1)} s**, with ${r.rootBuilt ? "the root built in this run (cold cache)" : "the cached root (warm cache)"}. Cached root: ${r.rootMegabytes} MB on disk (\`du -sm\`; the Node 24 binary is about 127 MB of it). Target: the whole suite under 5 minutes.
`;
}
