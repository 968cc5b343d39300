// Child process of bench/program.ts: runs the real index.ts for one stack under Pulumi's mocks and
// prints {ms, resources} as JSON. A fresh process per run, so every run pays the module loading.
import * as path from "node:path";
import { readStackFile } from "../config/stackFile";
import { PROD_STACK_OUTPUTS } from "../harness/prodOutputs";
import { runUnderMocks } from "../harness/pulumiMocks";

async function main(): Promise<void> {
  const stack = process.argv[2];
  if (stack !== "prod" && stack !== "canary") throw new Error("usage: programRun prod|canary");
  const config = readStackFile(path.resolve(__dirname, "..", `Pulumi.${stack}.yaml`));
  const t0 = process.hrtime.bigint();
  const run = await runUnderMocks(() => require("../index"), { stack, config, stackReferenceOutputs: PROD_STACK_OUTPUTS });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, resources: run.resources.length }) + "\n");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
