// The `aviary` entry point (package.json "bin"): the bundled CLI on the package's own Node 24,
// never through npx/npm or whatever `node` is first on PATH; `npx aviary` keeps working.
// Its startup time is measured by the bench (bench/cliStartup.ts), not asserted here.
import { REPO_ROOT } from "../../support/repoRoot";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { tempDir } from "../../support/tempDir";

const ROOT = path.resolve(REPO_ROOT);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string; bin: Record<string, string> };
const ENTRY = path.join(ROOT, pkg.bin.aviary);
const NODE24 = path.join(ROOT, "node_modules", ".bin", "node");
const exec = promisify(execFile);
jest.setTimeout(120_000);

const tmp = tempDir("aviary-cli-entry-");

test("runs on Node 24 without calling node, npm or npx from PATH", async () => {
  // A PATH whose node/npm/npx only leave a mark: the entry must not need them.
  const fakeBin = path.join(tmp, "fake-bin");
  const marks = path.join(tmp, "marks");
  fs.mkdirSync(fakeBin);
  for (const tool of ["node", "npm", "npx"]) {
    fs.writeFileSync(path.join(fakeBin, tool), `#!/bin/sh\necho ${tool} >> '${marks}'\nexit 99\n`, { mode: 0o755 });
  }
  // Preloaded into whichever Node runs the CLI: reports its version.
  const reported = path.join(tmp, "node-version");
  const report = path.join(tmp, "report.js");
  fs.writeFileSync(report, `require("fs").writeFileSync(${JSON.stringify(reported)}, process.version);`);
  const { stdout } = await exec(ENTRY, ["--version"], {
    env: { PATH: `${fakeBin}:/usr/local/bin:/usr/bin:/bin`, HOME: tmp, NODE_OPTIONS: `--require ${report}` },
    timeout: 60_000,
  });
  expect(stdout).toBe(`${pkg.version}\n`);
  expect(fs.existsSync(marks) ? fs.readFileSync(marks, "utf8") : "").toBe("");
  expect(fs.readFileSync(reported, "utf8")).toMatch(/^v24\./);
});

test("is linked by npm as the `aviary` command and works through a symlink", async () => {
  const link = path.join(tmp, "aviary");
  fs.symlinkSync(ENTRY, link);
  const { stdout } = await exec(link, ["--version"], { timeout: 60_000 });
  expect(stdout).toBe(`${pkg.version}\n`);
});

test("the bundle is one self-contained file: it runs alone, away from node_modules", async () => {
  await exec(ENTRY, ["--version"], { timeout: 60_000 }); // builds dist/cli.js if needed
  const alone = path.join(tmp, "alone");
  fs.mkdirSync(alone);
  fs.copyFileSync(path.join(ROOT, "dist", "cli.js"), path.join(alone, "cli.js"));
  const { stdout } = await exec(NODE24, [path.join(alone, "cli.js"), "--version"], { cwd: alone, timeout: 60_000 });
  expect(stdout).toBe(`${pkg.version}\n`);
});

test("the entry watches every top-level source of the bundle for changes", async () => {
  const meta = await build({ entryPoints: [path.join(ROOT, "cli", "main.ts")], bundle: true, platform: "node", target: "node24", write: false, metafile: true, absWorkingDir: ROOT, logLevel: "silent", outfile: path.join(tmp, "meta.js") });
  const tops = new Set(Object.keys(meta.metafile.inputs).filter((f) => !f.startsWith("node_modules/")).map((f) => f.split("/")[0]));
  const watched = /^SOURCES="([^"]*)"$/m.exec(fs.readFileSync(ENTRY, "utf8"))?.[1].split(" ") ?? [];
  expect([...tops].sort()).toEqual([...watched].sort());
});

describe("a missing or stale bundle is rebuilt before it runs", () => {
  // A copy of the entry in a scratch tree whose build step only records that it ran.
  const root = path.join(tmp, "tree");
  const marks = path.join(root, "builds");
  const bundle = path.join(root, "dist", "cli.js");
  const sources = ["cli/main.ts", "core/flags/model.ts", "discovery/localStateFile.ts", "state/keys.ts", "package.json"];
  const t0 = Date.now() / 1000 - 3600;
  beforeAll(() => {
    for (const d of ["bin", "dist", "node_modules/.bin", "cli", "core/flags", "discovery", "state"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.copyFileSync(ENTRY, path.join(root, "bin", "aviary"));
    fs.chmodSync(path.join(root, "bin", "aviary"), 0o755);
    fs.writeFileSync(path.join(root, "bin", "build-cli"), `#!/bin/sh
echo built >> '${marks}'
echo 'console.log("new")' > '${bundle}'
`, { mode: 0o755 });
    fs.symlinkSync(NODE24, path.join(root, "node_modules", ".bin", "node"));
  });
  /** Every source at t0, an old bundle just after; `touched` changed after the bundle was built. */
  function layout(touched?: string): void {
    for (const s of sources) {
      fs.writeFileSync(path.join(root, s), s.endsWith(".json") ? "{}" : "");
      fs.utimesSync(path.join(root, s), t0, t0);
    }
    fs.writeFileSync(bundle, 'console.log("old")');
    fs.utimesSync(bundle, t0 + 10, t0 + 10);
    if (touched) fs.utimesSync(path.join(root, touched), t0 + 20, t0 + 20);
    fs.rmSync(marks, { force: true });
  }
  const runEntry = async (): Promise<{ out: string; builds: number }> => {
    const { stdout } = await exec(path.join(root, "bin", "aviary"), [], { timeout: 60_000 });
    return { out: stdout.trim(), builds: fs.existsSync(marks) ? fs.readFileSync(marks, "utf8").trim().split("\n").length : 0 };
  };

  test("an up-to-date bundle runs as is", async () => {
    layout();
    expect(await runEntry()).toEqual({ out: "old", builds: 0 });
  });

  test.each(sources)("%s changed: rebuilt once, then run", async (touched) => {
    layout(touched);
    expect(await runEntry()).toEqual({ out: "new", builds: 1 });
  });

  test("no bundle yet: built", async () => {
    layout();
    fs.rmSync(bundle);
    expect(await runEntry()).toEqual({ out: "new", builds: 1 });
  });
});

test("npx aviary still works, from a subdirectory too", async () => {
  // A fresh npm cache (offline): npx installs this checkout into it as a link, as on a new machine.
  const env = { ...process.env, npm_config_cache: path.join(tmp, "npm-cache"), npm_config_offline: "true", npm_config_update_notifier: "false" };
  const { stdout } = await exec("npx", ["aviary", "--version"], { cwd: path.join(ROOT, "components"), env, timeout: 90_000 });
  expect(stdout).toBe(`${pkg.version}\n`);
});
