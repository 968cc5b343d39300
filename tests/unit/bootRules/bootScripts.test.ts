// The rendered boot scripts (app, proxy, Redis) against the rules of bootRules/: the proxy agent can
// open HAProxy's admin socket and nobody else can, every dnf install is retried, every curl fails on
// HTTP errors, every unit carries AWS_REGION, and the instances run Node.js 24.
import path from "node:path";
import { renderAppUserData } from "../../../components/appUserData";
import { DRAIN_WATCHER_UNIT } from "../../../components/fleetLifecycle";
import { renderProxyUserData } from "../../../components/proxy";
import { AGENT_INSTALL_PATH, PROXY_AGENT_PATH, PROXY_AGENT_UNIT } from "../../../components/proxyAgent";
import { redisUserData } from "../../../components/redisServer";
import { bootScriptProblems, splitBootScript, type WrittenFile } from "../../../bootRules/bootScript";
import { statsSocket } from "../../../bootRules/haproxyStatsSocket";
import { runDirectoryAtStart } from "../../../bootRules/runtimeDirectory";
import { lastValue, mergeUnitFiles, parseUnitFile } from "../../../bootRules/systemdUnitFile";
import { canConnect, type Principal } from "../../../bootRules/unixSocketAccess";
import { AL2023_HAPROXY_SERVICE } from "../../../boot/standins/dnf";

const ROOT_DIR = { owner: "root", group: "root", mode: 0o755 };

const region = "eu-west-1";
const proxyScript = (): string => renderProxyUserData({ appPort: 3000, deployment: "aviary-prod", bucket: "b", agentKeyParameterName: "/aviary/prod/proxy/agent-key", redisUrlParameterName: "/aviary/redis/url", region, latencyThresholdMs: 1500, accessLog: "errors" });
const appScript = (demoFaults?: boolean): string => renderAppUserData({ role: "prod", version: "1.4.2", bucket: "b", key: "releases/1.4.2/app.js", appPort: 3000, redisUrlParameterName: "/aviary/redis/url", region, demoFaults });
const redisScript = (): string => redisUserData({ passwordParameterName: "/aviary/redis/password", region });
const scripts: [string, () => string][] = [["app", () => appScript()], ["proxy", proxyScript], ["redis", redisScript]];

const filesUnder = (files: WrittenFile[], dir: string, ext: string): WrittenFile[] =>
  files.filter((f) => path.dirname(f.path) === dir && f.path.endsWith(ext)).sort((a, b) => a.path.localeCompare(b.path));
const file = (files: WrittenFile[], p: string): string => {
  const f = files.find((x) => x.path === p);
  if (!f) throw new Error(`the script writes no ${p}`);
  return f.body;
};

/** Who can open the admin socket once the proxy script has run and HAProxy has started. */
function adminSocketAccess(script: string, who: Principal) {
  const { files } = splitBootScript(script);
  const socket = statsSocket(file(files, "/etc/haproxy/haproxy.cfg"));
  const service = mergeUnitFiles(parseUnitFile(AL2023_HAPROXY_SERVICE), filesUnder(files, "/etc/systemd/system/haproxy.service.d", ".conf").map((f) => parseUnitFile(f.body)));
  const tmpfiles = filesUnder(files, "/etc/tmpfiles.d", ".conf").flatMap((f) => f.body.split("\n"));
  const dirPath = path.dirname(socket.path);
  const dir = runDirectoryAtStart({ service, unitName: "haproxy", primaryGroups: { haproxy: "haproxy" }, tmpfiles }, dirPath);
  if (!dir) return { ok: false, reason: `nothing creates ${dirPath}` };
  return canConnect(who, { directories: [{ path: "/", ...ROOT_DIR }, { path: "/run", ...ROOT_DIR }, { path: dirPath, ...dir }], socket });
}

describe("proxy: HAProxy's admin socket", () => {
  test("the agent's user can connect (the agent fills the slots through it)", () => {
    const { files } = splitBootScript(proxyScript());
    const agent = parseUnitFile(file(files, "/etc/systemd/system/aviary-agent.service"));
    const user = lastValue(agent, "Service", "User")!;
    expect(user).toBe("haproxy");
    expect(adminSocketAccess(proxyScript(), { user, groups: [lastValue(agent, "Service", "Group")!] })).toEqual({ ok: true });
  });

  test.each<Principal>([
    { user: "ec2-user", groups: ["ec2-user", "wheel"] },
    { user: "nobody", groups: ["nobody"] },
    { user: "ssm-user", groups: ["ssm-user"] },
  ])("$user cannot", (who) => {
    expect(adminSocketAccess(proxyScript(), who).ok).toBe(false);
  });

  test("the HAPROXY_SOCKET the agent gets is the socket HAProxy binds", () => {
    const { files } = splitBootScript(proxyScript());
    const agent = parseUnitFile(file(files, "/etc/systemd/system/aviary-agent.service"));
    expect(agent.get("Service")?.get("Environment")).toContain(`HAPROXY_SOCKET=${statsSocket(file(files, "/etc/haproxy/haproxy.cfg")).path}`);
  });
});

describe.each(scripts)("%s boot script", (_, render) => {
  test("follows the boot script rules: dnf retried, curl -f, AWS_REGION in every unit", () => {
    expect(bootScriptProblems(render())).toEqual([]);
  });

  test("installs something, and only under the bounded retry", () => {
    const installs = splitBootScript(render()).commands.filter((l) => /dnf install/.test(l));
    expect(installs.length).toBeGreaterThan(0);
    expect(render()).toMatch(/^retry\(\) \{\n  local attempt\n  for attempt in \$\(seq 1 10\); do$/m);
  });
});

describe("Node.js 24 on the instances", () => {
  test.each([["app", appScript()], ["proxy", proxyScript()]])("%s installs nodejs24 and runs node-24", (_, script) => {
    const { commands, files } = splitBootScript(script);
    expect(commands.filter((l) => /dnf install/.test(l)).join("\n")).toMatch(/\bnodejs24\b/);
    expect(script).not.toMatch(/nodejs20|node-20/);
    expect(commands).toContain("NODE_BIN=$(command -v node-24)");
    // The Node services (the app, the agent); the fleet's drain watcher is a shell script.
    const units = filesUnder(files, "/etc/systemd/system", ".service").filter((u) => u.path !== `/etc/systemd/system/${DRAIN_WATCHER_UNIT}`);
    expect(units.length).toBeGreaterThan(0);
    expect(units.map((u) => lastValue(parseUnitFile(u.body), "Service", "ExecStart"))).toEqual(units.map(() => expect.stringMatching(/^\$NODE_BIN /)));
  });
});

describe("units carry the stack's region", () => {
  test.each([["app", appScript()], ["proxy", proxyScript()]])("%s", (_, script) => {
    for (const unit of filesUnder(splitBootScript(script).files, "/etc/systemd/system", ".service")) {
      expect(parseUnitFile(unit.body).get("Service")?.get("Environment")).toContain(`AWS_REGION=${region}`);
    }
  });
  test("a region that is not a region name is refused", () => {
    expect(() => renderAppUserData({ role: "prod", version: "1", bucket: "b", key: "k", appPort: 3000, redisUrlParameterName: "/p", region: "eu-west-1\nExecStartPre=/bin/sh" })).toThrow(/not an AWS Region/);
  });
});

describe("demo faults in the app unit", () => {
  const faultsEnv = (script: string) =>
    (parseUnitFile(file(splitBootScript(script).files, "/etc/systemd/system/aviary-app.service")).get("Service")?.get("Environment") ?? [])
      .filter((e) => e.startsWith("AVIARY_DEMO_FAULTS="));
  test.each<[boolean | undefined, string]>([[undefined, "off"], [false, "off"], [true, "on"]])("demoFaults %s -> AVIARY_DEMO_FAULTS=%s", (demoFaults, value) => {
    expect(faultsEnv(appScript(demoFaults))).toEqual([`AVIARY_DEMO_FAULTS=${value}`]);
  });
});

describe("proxy: the agent's release comes from the install script", () => {
  const { commands, files } = splitBootScript(proxyScript());
  const install = splitBootScript(file(files, AGENT_INSTALL_PATH)).commands.map((l) => l.trim());
  const at = (re: RegExp): number => {
    const i = install.findIndex((l) => re.test(l));
    if (i < 0) throw new Error(`the install script has no line matching ${re}`);
    return i;
  };

  test("the boot script names no release key (a new agent bundle changes no user data), only the parameter", () => {
    expect(proxyScript()).not.toMatch(/releases\/[^*]/);
    expect(file(files, AGENT_INSTALL_PATH)).toContain("--name '/aviary/prod/proxy/agent-key'");
  });

  test("the boot script runs it once, after the agent's unit is written and enabled", () => {
    const runs = commands.map((l, i) => [l.trim(), i] as const).filter(([l]) => l === AGENT_INSTALL_PATH);
    expect(runs).toHaveLength(1);
    expect(commands.indexOf(`systemctl enable ${PROXY_AGENT_UNIT}`)).toBeLessThan(runs[0]![1]);
    expect(commands).toContain(`chmod 700 ${AGENT_INSTALL_PATH}`);
  });

  test("atomic: it downloads to a temporary file beside the agent (retried), renames it over the agent, then restarts the agent", () => {
    expect(install[at(/^tmp=\$\(mktemp /)]).toBe(`tmp=$(mktemp '${PROXY_AGENT_PATH}.XXXXXX')`);
    const download = at(/aws s3 cp /);
    expect(install[download]).toMatch(/^retry aws s3 cp .* "\$tmp"$/);
    const rename = at(/^mv /);
    expect(install[rename]).toBe(`mv -f "$tmp" '${PROXY_AGENT_PATH}'`);
    const restart = at(/^systemctl restart /);
    expect(install[restart]).toBe(`systemctl restart ${PROXY_AGENT_UNIT}`);
    expect(download).toBeLessThan(rename);
    expect(rename).toBeLessThan(restart);
    // Nothing else writes the agent's file: it only ever holds a complete release.
    expect(install.filter((l) => l.includes(PROXY_AGENT_PATH))).toEqual([install[at(/^tmp=/)], install[rename]]);
    expect(install[1]).toBe("set -euo pipefail");
  });
});
