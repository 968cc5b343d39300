// `npm run bench:flags`: only the feature-flag section; replaces that section of BENCHMARKS.md.
import fs from "node:fs";
import path from "node:path";
import { benchFlags } from "./flags";

async function main(): Promise<void> {
  const section = await benchFlags();
  console.log(section);
  const file = path.join(__dirname, "..", "BENCHMARKS.md");
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  const start = current.indexOf("\n## Feature flags");
  const before = (start >= 0 ? current.slice(0, start) : current).trimEnd();
  const nextTop = start >= 0 ? current.indexOf("\n## ", start + 1) : -1;
  const after = nextTop >= 0 ? current.slice(nextTop) : "";
  fs.writeFileSync(file, `${before}\n\n${section}${after}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
