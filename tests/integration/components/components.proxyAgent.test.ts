// The proxy agent's install script, run for real by bash: `aws` (SSM parameter, S3 download),
// `systemctl` and `sleep` are stubs on PATH that record what they were asked and what the agent's
// file held at that moment.
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RETRY_ATTEMPTS } from "../../../components/bootShell";
import { agentInstallCommand, renderAgentInstallScript } from "../../../components/proxyAgent";
import { tempDir } from "../../support/tempDir";

const KEY = "releases/1.2.3-0123456789abcdef/agent.js";
const OLD_AGENT = "// agent 1.2.2\n";
const NEW_AGENT = "// agent 1.2.3, first half\n// agent 1.2.3, second half\n";

interface Box {
  dir: string;
  agentPath: string;
  run(...args: string[]): Promise<{ code: number; output: string }>;
  calls(): string[];
}

/**
 * A proxy in a directory: the running agent's file, the parameter's value, and stubs. The S3 stub
 * writes the first half of the object, notes what the agent's file holds mid-download, then writes
 * the rest (mode ok) or fails (mode fail).
 */
function proxyBox(parameterValue: string, mode: "ok" | "fail"): Box {
  const dir = tempDir("aviary-agent-install-");
  const bin = join(dir, "bin");
  const opt = join(dir, "opt");
  mkdirSync(bin);
  mkdirSync(opt);
  const agentPath = join(opt, "aviary-agent.js");
  const log = join(dir, "calls.log");
  writeFileSync(agentPath, OLD_AGENT);
  writeFileSync(log, "");
  const [first, second] = NEW_AGENT.split(/(?<=\n)/);
  const stubs: Record<string, string> = {
    aws: `case "$1 $2" in
  "ssm get-parameter") printf '%s\\n' '${parameterValue}' ;;
  "s3 cp")
    dest="\${@: -1}"
    printf '%s' '${first}' > "$dest"
    echo "agent during download: $(head -1 '${agentPath}')" >> '${log}'
    ${mode === "ok" ? `printf '%s' '${second}' >> "$dest"` : `echo "download failed" >&2; exit 1`}
    ;;
esac`,
    systemctl: `echo "agent at systemctl: $(head -1 '${agentPath}')" >> '${log}'`,
    sleep: "exit 0",
  };
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const script = join(dir, "aviary-agent-install");
  writeFileSync(script, renderAgentInstallScript({ region: "eu-west-1", bucket: "aviary-releases-abc", agentKeyParameterName: "/aviary/prod/proxy/agent-key", agentPath, logFile: join(dir, "install.log") }));
  return {
    dir,
    agentPath,
    calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
    run: (...args) => new Promise((resolve) => {
      execFile("bash", [script, ...args], { env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir }, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, output: stdout + stderr }));
    }),
  };
}

const downloads = (calls: string[]) => calls.filter((c) => c.startsWith("aws s3 cp "));

describe.each([["at boot (no argument)", []], ["from State Manager (the expected key)", [KEY]]] as const)("install %s", (_, args) => {
  let box: Box;
  let result: { code: number; output: string };
  beforeAll(async () => {
    box = proxyBox(KEY, "ok");
    result = await box.run(...args);
  });

  test("downloads the parameter's key from the release bucket and installs it", () => {
    expect(result).toMatchObject({ code: 0 });
    expect(box.calls()[0]).toBe("aws ssm get-parameter --region eu-west-1 --name /aviary/prod/proxy/agent-key --query Parameter.Value --output text");
    expect(downloads(box.calls())).toEqual([expect.stringMatching(new RegExp(`^aws s3 cp --region eu-west-1 --only-show-errors s3://aviary-releases-abc/${KEY} ${box.agentPath}\\.\\w{6}$`))]);
    expect(readFileSync(box.agentPath, "utf8")).toBe(NEW_AGENT);
  });

  test("the agent's file is replaced only after the download is complete, and the agent restarted after that", () => {
    const calls = box.calls();
    expect(calls).toContain("agent during download: // agent 1.2.2");
    expect(calls.filter((c) => c.startsWith("systemctl"))).toEqual(["systemctl restart aviary-agent.service"]);
    expect(calls.at(-1)).toBe("agent at systemctl: // agent 1.2.3, first half");
    expect(readdirSync(join(box.dir, "opt"))).toEqual(["aviary-agent.js"]);
  });
});

describe("a download that keeps failing", () => {
  let box: Box;
  let result: { code: number; output: string };
  beforeAll(async () => {
    box = proxyBox(KEY, "fail");
    result = await box.run(KEY);
  });

  test("is retried a bounded number of times, then fails the run", () => {
    expect(result.code).not.toBe(0);
    expect(downloads(box.calls())).toHaveLength(RETRY_ATTEMPTS);
    expect(result.output).toContain(`attempt ${RETRY_ATTEMPTS}/${RETRY_ATTEMPTS} failed: aws s3 cp`);
  });

  test("leaves the running agent in place: same file, no restart, no partial file left", () => {
    expect(readFileSync(box.agentPath, "utf8")).toBe(OLD_AGENT);
    expect(box.calls().filter((c) => c.startsWith("systemctl"))).toEqual([]);
    expect(readdirSync(join(box.dir, "opt"))).toEqual(["aviary-agent.js"]);
  });
});

describe("refusals: nothing is downloaded and the agent keeps running", () => {
  test.each([
    ["the parameter holds another key than State Manager's run was sent for", KEY, ["releases/1.2.4-fedcba9876543210/agent.js"], /holds releases\/1\.2\.3-0123456789abcdef\/agent\.js, this run was sent for releases\/1\.2\.4/],
    ["the parameter holds no agent release key", "../../etc/shadow", [], /holds no agent release key/],
  ])("%s", async (_, value, args, message) => {
    const box = proxyBox(value, "ok");
    const result = await box.run(...args);
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(message);
    expect(downloads(box.calls())).toEqual([]);
    expect(box.calls().filter((c) => c.startsWith("systemctl"))).toEqual([]);
    expect(readFileSync(box.agentPath, "utf8")).toBe(OLD_AGENT);
  });
});

describe("State Manager's command", () => {
  test("waits for the boot script, then installs exactly the key it carries (shell-quoted)", () => {
    expect(agentInstallCommand(KEY)).toBe(`cloud-init status --wait >/dev/null; /usr/local/sbin/aviary-agent-install '${KEY}'`);
    expect(agentInstallCommand("releases/x'; rm -rf /; '/agent.js")).toBe(`cloud-init status --wait >/dev/null; /usr/local/sbin/aviary-agent-install 'releases/x'\\''; rm -rf /; '\\''/agent.js'`);
  });

});
