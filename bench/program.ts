// The Pulumi program's run time under mocks (both stacks, a fresh process each run) and the
// controller Lambda's bundle: size and cold load time (a fresh `node` requiring it).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { buildSync } from "esbuild";
import { buildControllerBundle } from "../lambda/bundle";
import { rounds } from "./quick";

const RUNS = rounds(3, 1);
const LOADS = rounds(10, 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface ProgramRun { ms: number; resources: number; wallMs: number }

function runProgram(child: string, stack: string): ProgramRun {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [child, stack], { encoding: "utf8", timeout: 120_000 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`program run (${stack}) failed: ${r.stderr}`);
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  const { ms, resources } = JSON.parse(line) as { ms: number; resources: number };
  return { ms, resources, wallMs };
}

/** Time to require the bundle in a fresh node (the Lambda runtime's init phase, minus its own start-up). */
function coldLoad(file: string): { requireMs: number; wallMs: number } {
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});if(typeof m.handler!=="function")process.exit(3);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 30_000 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`loading the Lambda bundle failed (${r.status}): ${r.stderr}`);
  return { requireMs: Number(r.stdout), wallMs };
}

export async function benchProgram(log: (line: string) => void = console.log): Promise<string> {
  const repoDir = path.resolve(__dirname, "..");
  // Directly in dist/, one level below the repo like the sources, so the program's own
  // path.join(__dirname, "..", …) lookups (stack files, bundle entries) resolve from the bundle too.
  const out = path.join(repoDir, "dist");
  fs.mkdirSync(out, { recursive: true });
  const child = path.join(out, "bench-program-run.js");
  buildSync({ entryPoints: [path.join(repoDir, "bench", "programRun.ts")], bundle: true, platform: "node", target: "node24", packages: "external", outfile: child, logLevel: "warning" });
  const programs: Record<string, ProgramRun[]> = { prod: [], canary: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const stack of ["prod", "canary"]) {
      const r = runProgram(child, stack);
      programs[stack].push(r);
      log(`program ${stack} under mocks: ${r.ms.toFixed(0)} ms (${r.resources} resources), process ${r.wallMs.toFixed(0)} ms`);
    }
  }

  const bundle = buildControllerBundle();
  const gz = gzipSync(bundle.code).byteLength;
  // Next to the repo's node_modules, where the runtime's @aws-sdk/* (external) resolve as on Lambda.
  const bundleFile = path.join(out, "bench-controller.js");
  fs.writeFileSync(bundleFile, bundle.code);
  const loads = Array.from({ length: LOADS }, () => coldLoad(bundleFile));
  const req = loads.map((l) => l.requireMs);
  const wall = loads.map((l) => l.wallMs);
  log(`lambda bundle ${bundle.bytes} bytes; cold require median ${median(req).toFixed(0)} ms`);

  const row = (stack: string): string => {
    const rs = programs[stack];
    return `| \`${stack}\` | ${rs[0].resources} | ${median(rs.map((r) => r.ms)).toFixed(0)} ms | ${median(rs.map((r) => r.wallMs)).toFixed(0)} ms | ${rs.map((r) => r.ms.toFixed(0)).join(" / ")} |`;
  };
  const progMax = Math.max(...Object.values(programs).flat().map((r) => r.ms));
  const ok = (b: boolean): string => (b ? "met" : "**missed**");
  return `## Pulumi program and controller Lambda

### The program under Pulumi's mocks

The real \`index.ts\` with the committed \`Pulumi.<stack>.yaml\`, under the mocks the tests use (\`harness/pulumiMocks.ts\`), ${RUNS} runs per stack, each in a fresh Node process (\`bench/programRun.ts\`): "program" is \`runUnderMocks\` (loading the program and the Pulumi/AWS provider SDKs, registering every resource), "process" adds Node's start-up.

| stack | resources | program (median) | process (median) | program per run |
|---|---|---|---|---|
${row("prod")}
${row("canary")}

Target: well within 30 s (the bound \`tests/unit/program/program.prod.test.ts\` asserts): ${ok(progMax < 30_000)}, slowest run ${(progMax / 1000).toFixed(1)} s.

### Controller Lambda bundle

\`lambda/bundle.ts\` (esbuild, minified CommonJS, \`@aws-sdk/*\` left to the runtime): **${(bundle.bytes / 1024).toFixed(0)} KiB** (${(gz / 1024).toFixed(0)} KiB gzipped; Lambda's limit for a direct upload is 50 MiB zipped). Cold load, ${LOADS} fresh \`node\` processes each \`require\`-ing it (what Lambda's init phase does, with the AWS SDK clients it imports from \`node_modules\`): median **${median(req).toFixed(0)} ms**, max ${Math.max(...req).toFixed(0)} ms; whole process (Node start-up + load) median ${median(wall).toFixed(0)} ms. Target: a cold start well under the 10 s CloudWatch period it sits behind: ${ok(Math.max(...wall) < 10_000)}.
`;
}
