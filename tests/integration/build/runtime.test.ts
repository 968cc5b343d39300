// Node.js 24 LTS everywhere: npm scripts run on the `node` dev dependency's binary, and the AWS SDK
// (which warns on a Node.js past its end of life) constructs its clients without a warning there.
import { REPO_ROOT } from "../../support/repoRoot";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

test("the tests run on Node.js 24, the version package.json brings and asks for", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  expect(process.versions.node.split(".")[0]).toBe("24");
  expect(pkg.devDependencies.node).toMatch(/^\^24\./);
  expect(pkg.engines.node).toBe(">=22");
});

test("the AWS SDK clients the controller uses load without a runtime warning", () => {
  const script = `
    process.on("warning", (w) => { console.error("WARNING " + w.name + ": " + w.message); });
    for (const [pkg, cls] of [["@aws-sdk/client-sns", "SNSClient"], ["@aws-sdk/client-cloudwatch", "CloudWatchClient"], ["@aws-sdk/client-auto-scaling", "AutoScalingClient"]]) {
      new (require(pkg)[cls])({ region: "us-east-1" });
    }
    setTimeout(() => console.log("ok"), 50);`;
  // On Node 20 this prints the SDK's NodeVersionSupportWarning.
  const result = spawnSync(process.execPath, ["-e", script], { cwd: join(REPO_ROOT), encoding: "utf8" });
  expect({ stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({ stdout: "ok", stderr: "" });
});
