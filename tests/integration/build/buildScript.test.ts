// bin/build, the one way this repository bundles an entry for Node 24 (npm scripts, `npm start`,
// bin/build-cli): packages stay external unless --self-contained, and a failed build keeps the
// previous bundle.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { tempDir } from "../../support/tempDir";

const ROOT = path.resolve(REPO_ROOT);
const BUILD = path.join(ROOT, "bin", "build");
const NODE24 = path.join(ROOT, "node_modules", ".bin", "node");
const exec = promisify(execFile);
jest.setTimeout(120_000);

// Inside the checkout (test-output/ is ignored), so the entry resolves packages from node_modules.
const dir = path.join(ROOT, "test-output", `build-script-${process.pid}`);
const entry = path.join(dir, "entry.ts");
beforeAll(() => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(entry, 'import { stringify } from "yaml";\nconst n: number = 2;\nprocess.stdout.write(stringify({ n }));\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Builds `entry` into a fresh directory outside the checkout (no node_modules above) and runs it there. */
async function buildAndRunAlone(flags: string[]): Promise<{ code: string; run: Promise<{ stdout: string }> }> {
  const out = tempDir("aviary-build-");
  const bundle = path.join(out, "bundle.js");
  await exec(BUILD, [...flags, entry, bundle]);
  return { code: fs.readFileSync(bundle, "utf8"), run: exec(NODE24, [bundle], { cwd: out }) };
}

test("by default packages stay external: the bundle requires them from node_modules", async () => {
  const { code, run } = await buildAndRunAlone([]);
  expect(code).toContain('require("yaml")');
  await expect(run).rejects.toThrow(/Cannot find module 'yaml'/);
});

test("--self-contained inlines the packages: the bundle runs alone", async () => {
  const { code, run } = await buildAndRunAlone(["--self-contained"]);
  expect(code).not.toContain('require("yaml")');
  expect((await run).stdout).toBe("n: 2\n");
});

test("a failed build leaves the previous bundle and no temporary file", async () => {
  const out = tempDir("aviary-build-fail-");
  const bundle = path.join(out, "bundle.js");
  fs.writeFileSync(bundle, "previous");
  const broken = path.join(dir, "broken.ts");
  fs.writeFileSync(broken, 'import { gone } from "./missing";\nconsole.log(gone);\n');
  await expect(exec(BUILD, [broken, bundle])).rejects.toThrow(/Could not resolve "\.\/missing"/);
  expect(fs.readdirSync(out)).toEqual(["bundle.js"]);
  expect(fs.readFileSync(bundle, "utf8")).toBe("previous");
});

test("without an entry and an output it prints its usage and exits 2", async () => {
  await expect(exec(BUILD, [entry])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("usage: bin/build") });
});

test("every bundle an npm script, `npm start` or bin/build-cli runs is built by bin/build", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const callers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(pkg.scripts).map(([name, cmd]) => [`npm run ${name}`, cmd])),
    "scripts/start.sh": fs.readFileSync(path.join(ROOT, "scripts", "start.sh"), "utf8"),
    "bin/build-cli": fs.readFileSync(path.join(ROOT, "bin", "build-cli"), "utf8"),
  };
  for (const [caller, text] of Object.entries(callers)) {
    // No esbuild command line of its own.
    expect({ caller, esbuild: /(^|[\s/])esbuild\s/m.test(text) }).toEqual({ caller, esbuild: false });
    // Each dist/*.js it runs comes out of bin/build.
    for (const [, ran] of text.matchAll(/node "?(?:\$PWD\/)?(dist\/[\w.-]+\.js)/g)) {
      expect({ caller, ran, built: new RegExp(`bin/build\\S* (--self-contained )?\\S+ ${ran}\\b`).test(text) }).toEqual({ caller, ran, built: true });
    }
  }
  expect(callers["bin/build-cli"]).toMatch(/bin\/build" --self-contained "\$root\/cli\/main\.ts" "\$root\/dist\/cli\.js"/);
});
