// The controller bundle the Controller component deploys: builds, stays small, and runs in a plain
// `node` process with only what the Lambda runtime provides (AWS SDK v3).
import { REPO_ROOT } from "../../support/repoRoot";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildControllerBundle } from "../../../lambda/bundle";
import { tempDir } from "../../support/tempDir";

// ioredis, pino and zod/mini are most of it; the rollout decisions (core/rollout/decide.ts) add about 9 KB.
const LIMIT_BYTES = 320_000;

// Runs inside the plain node process: a malformed record is skipped without touching Redis or AWS,
// and an invalid configuration invocation is rejected.
const SMOKE = `
const { handler } = require("./index.js");
(async () => {
  if (typeof handler !== "function") throw new Error("no handler export");
  const r = await handler({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "m-1", Message: "{not json" } }] });
  let rejected = false;
  await handler({ action: "setCanaryWeight", weight: 300 }).catch(() => (rejected = true));
  console.log(JSON.stringify({ result: r, rejected }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

test("builds, stays under 320 KB, and runs in plain node with the runtime's AWS SDK", () => {
  const { code, bytes } = buildControllerBundle();
  console.log(`controller bundle: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`);
  expect(bytes).toBeLessThanOrEqual(LIMIT_BYTES);
  // AWS SDK v3 stays external: the nodejs24.x runtime ships it.
  expect(code).toMatch(/require\("@aws-sdk\/client-auto-scaling"\)/);
  expect(code).toMatch(/require\("@aws-sdk\/client-sns"\)/);
  expect(code).toMatch(/require\("@aws-sdk\/client-cloudwatch"\)/);

  const dir = tempDir("aviary-bundle-");
  try {
    fs.writeFileSync(path.join(dir, "index.js"), code);
    // Only @aws-sdk is resolvable next to the bundle, as in the Lambda runtime: anything else it
    // needs must be inside it. (Node follows the symlink, so the SDK finds its own dependencies.)
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules", "@aws-sdk"), path.join(dir, "node_modules", "@aws-sdk"));
    const out = execFileSync(process.execPath, ["-e", SMOKE], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1" },
    });
    const lines = out.trim().split("\n");
    // pino writes asynchronously: find the result line among the log lines.
    const summary = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => "result" in l);
    expect(summary).toEqual({ result: { processed: 0, skipped: 1, outcomes: [] }, rejected: true });
    expect(lines.some((l) => l.includes('"messageId":"m-1"') && l.includes("skipped malformed record"))).toBe(true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
