// The post-deploy smoke check: its shell text run for real against a loopback HTTP server (a 200 from
// an Aviary backend passes; HAProxy's 503, or a 200 from something else, fails), and its triggers
// under mocks (a new release or agent bundle re-runs it).
import { REPO_ROOT } from "../../support/repoRoot";
import { spawn } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PROXY_SMOKE_CHECK_SCRIPT } from "../../../components/proxySmokeCheck";
import { readStackFile } from "../../../config/stackFile";
import { runUnderMocks, type Registered } from "../../../harness/pulumiMocks";

interface Answer { status: number; headers?: Record<string, string> }

/** A loopback server answering each request with the next answer (the last one repeats). */
async function serve(answers: Answer[]): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    const a = answers[Math.min(hits, answers.length - 1)]!;
    hits++;
    res.writeHead(a.status, a.headers ?? {}).end(`${a.status}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, close: () => new Promise((r) => server.close(() => r())) };
}

/** Runs the check as local.Command does (`/bin/sh -c`), with a 2 s deadline and 1 s between tries. */
function runCheck(proxyUrl: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", PROXY_SMOKE_CHECK_SCRIPT], {
      env: { PATH: process.env.PATH, PROXY_URL: proxyUrl, AVIARY_SMOKE_TIMEOUT_SECONDS: "2", AVIARY_SMOKE_INTERVAL_SECONDS: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

describe("the smoke check's shell text against a loopback server", () => {
  const backend = { status: 200, headers: { "x-aviary-version": "1.4.2" } };

  test("a 200 with x-aviary-version passes at once and names the version", async () => {
    const s = await serve([backend]);
    const r = await runCheck(s.url);
    await s.close();
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining("answered 200 from app version 1.4.2") });
    expect(s.hits()).toBe(1);
  });

  test("503 (HAProxy with every slot disabled) fails once the deadline passes", async () => {
    const s = await serve([{ status: 503 }]);
    const r = await runCheck(s.url);
    await s.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("last: status 503, x-aviary-version absent");
    expect(s.hits()).toBeGreaterThanOrEqual(2);
    expect(r.ms).toBeLessThan(30_000); // gave up at its 2 s deadline, not the default one
  });

  test("a 200 without the header (not an Aviary backend) fails", async () => {
    const s = await serve([{ status: 200, headers: { server: "nginx" } }]);
    const r = await runCheck(s.url);
    await s.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("last: status 200, x-aviary-version absent");
  });

  test("an error status from the app itself fails too", async () => {
    const s = await serve([{ status: 500, headers: { "x-aviary-version": "1.5.0" } }]);
    const r = await runCheck(s.url);
    await s.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("last: status 500, x-aviary-version 1.5.0");
  });

  test("503 while backends register, then 200: passes on a later try", async () => {
    const s = await serve([{ status: 503 }, backend]);
    const r = await runCheck(s.url);
    await s.close();
    expect(r.code).toBe(0);
    expect(s.hits()).toBe(2);
  });

  test("nothing listening fails within the bound", async () => {
    const s = await serve([backend]);
    const url = s.url;
    await s.close();
    const r = await runCheck(url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("last: status none");
  });
});

describe("the smoke check's triggers under mocks", () => {
  const stackConfig = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));

  async function program(appVersion: string): Promise<{ check: Registered; keys: string[] }> {
    let found: { check: Registered; keys: string[] } | undefined;
    await jest.isolateModulesAsync(async () => {
      const run = await runUnderMocks(() => require("../../../index"), { stack: "prod", config: { ...stackConfig, "aviary:appVersion": appVersion } });
      const check = run.resources.find((r) => r.type === "command:local:Command" && r.name === "proxy-smoke-check");
      if (!check) throw new Error("no proxy-smoke-check");
      found = { check, keys: run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").map((o) => o.inputs.key as string) };
    });
    return found!;
  }

  test("it is triggered by the proxy, the app release key and the agent key", async () => {
    const { check, keys } = await program("1.4.2");
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(check.inputs.triggers).toContain(key);
    expect(check.inputs.triggers).toContain("proxy-id");
    expect(check.inputs.create).toBe(PROXY_SMOKE_CHECK_SCRIPT);
  });

  test("a new release changes the triggers (the command is replaced and runs again)", async () => {
    const before = await program("1.4.2");
    const after = await program("1.4.3");
    expect(after.keys).not.toEqual(before.keys);
    expect(after.check.inputs.triggers).not.toEqual(before.check.inputs.triggers);
  });
});
