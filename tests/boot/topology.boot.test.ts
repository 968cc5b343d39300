// The deployed topology booted for real: each instance's user data runs under systemd in its own
// container, against the AWS stand-ins, and the proxy serves the prod/canary split from the host.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import Redis from "ioredis";
import { BootHarness, BOOT_REGION } from "../../boot/harness";
import { USER_DATA_UNIT } from "../../boot/machine";
import { CACHE_BASE, rootKey } from "../../boot/rootImage";
import { readCompletedLifecycleActions } from "../../boot/standins";
import { AWS_DATA_DIR } from "../../boot/standins/awsCli";
import { APP_PORT, REDIS_PORT } from "../../config/ports";
import { LAUNCH_HOOK_NAME } from "../../components/fleetLifecycle";
import { listBackends } from "../../state/registry";
import { disableCanary, enableCanary, setCanaryWeight } from "../../state/routing";
import { withMaxconnWithin } from "../../boot/fileLimit";
import { withOldRuntimeDirectoryDropIn } from "./oldProxyDropIn";
import { writeBootReport } from "../../harness/reports/bootReport";
import { bootTopology, FLEET_GROUP, proxyScript, VERSIONS, type Topology } from "./topology";

let h: BootHarness;
let t: Topology;
let redis: Redis;

const startedAt = Date.now();
const rootCached = fs.existsSync(path.join(CACHE_BASE, `bookworm-${rootKey()}`, ".complete"));
let bootSeconds = 0;

beforeAll(async () => {
  h = await BootHarness.create();
  // Beside the real proxy, one with the old RuntimeDirectory drop-in: the suite must catch that fault.
  t = await bootTopology(h, [{ name: "proxy-old", userData: withOldRuntimeDirectoryDropIn(withMaxconnWithin(proxyScript())) }]);
  bootSeconds = (Date.now() - startedAt) / 1000;
  redis = new Redis(t.redisUrl, { maxRetriesPerRequest: 2 });
}, 600_000);

afterAll(async () => {
  redis?.disconnect();
  const containers = h?.instances.size ?? 0;
  await h?.close();
  if (bootSeconds === 0) return;
  const du = spawnSync("du", ["-sm", path.join(CACHE_BASE, `bookworm-${rootKey()}`)], { encoding: "utf8" });
  writeBootReport({ at: new Date().toISOString(), rootBuilt: !rootCached, bootSeconds, suiteSeconds: (Date.now() - startedAt) / 1000, containers, rootMegabytes: Number(du.stdout.split("\t")[0]) });
}, 120_000);

async function sh(name: string, script: string): Promise<string> {
  return (await h.get(name).machine.exec(["bash", "-c", script])).stdout.trim();
}

/** The user running a unit's main process. */
function unitUser(name: string, unit: string): Promise<string> {
  return sh(name, `ps -o user= -p "$(systemctl show -p MainPID --value ${unit})"`);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

function get(host: string, port: number, path = "/"): Promise<{ status: number; version: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, version: res.headers["x-aviary-version"] as string | undefined }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** n requests through the proxy, 20 at a time: how many each version answered, and any non-200. */
async function through(n: number, via = "proxy"): Promise<{ prod: number; canary: number; other: string[] }> {
  const proxy = h.get(via).address;
  const out = { prod: 0, canary: 0, other: [] as string[] };
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < n) {
      next++;
      const r = await get(proxy, 80);
      if (r.status === 200 && r.version === VERSIONS.prod) out.prod++;
      else if (r.status === 200 && r.version === VERSIONS.canary) out.canary++;
      else out.other.push(`${r.status} ${r.version}`);
    }
  }));
  return out;
}

describe("every instance's user data", () => {
  it.each(["redis", "prod", "canary", "proxy", "proxy-old"])("%s: ran to the end (exit 0)", async (name) => {
    const r = await h.userDataResult(name);
    expect({ name, status: r.status, tail: r.status === "0" ? "" : r.output.slice(-3000) }).toEqual({ name, status: "0", tail: "" });
  });

  it.each(["redis", "prod", "canary", "proxy"])("%s: routes only the private /24 and the metadata address", async (name) => {
    const routes = (await sh(name, "ip -4 route show | awk '{print $1}' | sort")).split("\n");
    expect(routes).toEqual([`${h.network.prefix}.0/24`, "169.254.169.254"]);
  });

  it.each(["prod", "canary", "proxy"])("%s: every unit file the script wrote passes systemd-analyze verify", async (name) => {
    const units = (await sh(name, `find /etc/systemd/system -maxdepth 1 -type f \\( -name '*.service' -o -name '*.timer' \\) ! -name ${USER_DATA_UNIT}`)).split("\n").filter(Boolean);
    expect(units.length).toBeGreaterThan(0);
    const r = await h.get(name).machine.exec(["systemd-analyze", "verify", ...units], { allowFail: true });
    expect({ units, code: r.code, out: `${r.stdout}${r.stderr}`.trim() }).toEqual({ units, code: 0, out: "" });
  });
});

describe("Redis instance", () => {
  it("runs as its own user, on the private address and loopback only", async () => {
    expect(await unitUser("redis", "redis6.service")).toBe("redis6");
    const listening = (await sh("redis", `ss -Hltn 'sport = :${REDIS_PORT}' | awk '{print $4}' | sort`)).split("\n");
    expect(listening).toEqual([`${h.get("redis").address}:${REDIS_PORT}`, `127.0.0.1:${REDIS_PORT}`].sort());
  });

  it("requires the generated password", async () => {
    // A client without the password gets NOAUTH for any command.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(REDIS_PORT, h.get("redis").address, () => socket.write("GET aviary:routing\r\n"));
      socket.once("data", (d) => { resolve(d.toString().trim()); socket.destroy(); });
      socket.once("error", reject);
    });
    expect(reply).toMatch(/^-NOAUTH/);
    expect(await redis.ping()).toBe("PONG");
  });

  it("keeps data across a restart in an append-only file on the data volume path", async () => {
    await redis.set("aviary:boot-test", "kept");
    await sh("redis", "systemctl restart redis6.service");
    await until("redis back", async () => ((await redis.get("aviary:boot-test")) === "kept" ? true : undefined));
    expect(await sh("redis", "find /data/redis -name '*.aof' -size +0 | head -1")).toMatch(/^\/data\/redis\/.+\.aof$/);
  });
});

describe.each(["prod", "canary"] as const)("%s app instance", (role) => {
  it("runs the app as aviary under systemd, with REDIS_URL from the root-only env file", async () => {
    expect(await unitUser(role, "aviary-app.service")).toBe("aviary");
    expect(await sh(role, "stat -c '%a %U %G' /etc/aviary/app.env /etc/aviary")).toBe("600 root root\n700 root root");
    expect(await sh(role, "grep '^REDIS_URL=' /etc/aviary/app.env")).toBe(`REDIS_URL=${t.redisUrl}`);
    // The env file is what reached the process: the URL is in its environment.
    expect(await sh(role, `tr '\\0' '\\n' < /proc/"$(systemctl show -p MainPID --value aviary-app.service)"/environ | grep '^REDIS_URL='`)).toBe(`REDIS_URL=${t.redisUrl}`);
  });

  it("registers in Redis with its instance id and private address from IMDS", async () => {
    const me = h.get(role);
    const backend = await until("registration", async () => (await listBackends(redis)).backends.find((b) => b.id === me.instanceId));
    expect(backend).toMatchObject({ id: me.instanceId, role, address: `${me.address}:${APP_PORT}`, version: VERSIONS[role] });
  });

  it("survives a restart of its unit", async () => {
    const me = h.get(role);
    const before = await sh(role, "systemctl show -p MainPID --value aviary-app.service");
    await sh(role, "systemctl restart aviary-app.service");
    const after = await sh(role, "systemctl show -p MainPID --value aviary-app.service");
    expect(after).not.toBe(before);
    expect(await until("app answering after restart", async () => {
      const r = await get(me.address, APP_PORT, "/healthz");
      return r.status === 200 ? r.version : undefined;
    })).toBe(VERSIONS[role]);
    expect((await listBackends(redis)).backends.map((b) => b.id)).toContain(me.instanceId);
  });
});

describe("prod fleet instance", () => {
  it("completes its launch lifecycle action once healthy", async () => {
    const prod = h.get("prod");
    const dataDir = `${prod.machine.rootDir}${AWS_DATA_DIR}`;
    const done = await until("lifecycle action", async () => readCompletedLifecycleActions(dataDir, BOOT_REGION).find((l) => l.includes(prod.instanceId)));
    expect(done).toContain(FLEET_GROUP);
    expect(done).toContain(LAUNCH_HOOK_NAME);
    expect(done).toContain("CONTINUE");
  });
});

describe("proxy instance", () => {
  it("runs HAProxy's workers and the agent as haproxy", async () => {
    const master = await sh("proxy", "systemctl show -p MainPID --value haproxy.service");
    expect(await sh("proxy", `ps -o user= --ppid ${master} | sort -u`)).toBe("haproxy");
    expect(await unitUser("proxy", "aviary-agent.service")).toBe("haproxy");
    expect(await sh("proxy", "stat -c '%U %G %a' /run/haproxy")).toBe("haproxy haproxy 700");
  });

  it("with the old RuntimeDirectory drop-in, /run/haproxy is root's and every request gets 503 (the fault this suite catches)", async () => {
    expect(await sh("proxy-old", "stat -c '%U %a' /run/haproxy")).toBe("root 750");
    await setCanaryWeight(redis, 25, { by: "boot-test" });
    // Long enough for the real proxy's agent to fill its slots (the split test below waits for it).
    await new Promise((r) => setTimeout(r, 5000));
    const r = await through(100, "proxy-old");
    expect({ prod: r.prod, canary: r.canary, statuses: [...new Set(r.other)] }).toEqual({ prod: 0, canary: 0, statuses: ["503 undefined"] });
    expect(await sh("proxy-old", "journalctl -u aviary-agent.service --no-pager | grep -c EACCES || true")).not.toBe("0");
  });

  /** Once both versions answer (within `waitMs`), 2,000 requests split 25 % canary ±3 points, all from the apps. */
  async function expectSplitAt25(what: string, waitMs: number): Promise<void> {
    await until(what, async () => {
      const r = await through(100);
      return r.prod > 0 && r.canary > 0 ? r : undefined;
    }, waitMs);
    const r = await through(2000);
    expect(r.other).toEqual([]);
    expect(Math.abs((100 * r.canary) / 2000 - 25)).toBeLessThanOrEqual(3);
  }

  it("the agent reaches HAProxy's Runtime API: the split is served at weight 25 (±3 points over 2,000 requests)", async () => {
    await setCanaryWeight(redis, 25, { by: "boot-test" });
    await expectSplitAt25("both versions served", 90_000);
  });

  it("canary off through the state module moves all traffic to prod within a second", async () => {
    const offAt = Date.now();
    await disableCanary(redis, { by: "boot-test", reason: "boot test" });
    let lastCanary = 0;
    while (Date.now() - offAt < 3000) {
      const r = await through(40);
      if (r.canary > 0) lastCanary = Date.now();
      expect(r.other).toEqual([]);
    }
    expect(lastCanary === 0 ? 0 : lastCanary - offAt).toBeLessThan(1000);
    expect((await through(500)).canary).toBe(0);
  });

  it("after a reboot of the proxy it serves again, with the same split, without a hand step", async () => {
    await setCanaryWeight(redis, 25, { by: "boot-test" });
    await enableCanary(redis, { by: "boot-test" });
    await h.get("proxy").machine.reboot();
    await h.get("proxy").machine.waitBooted();
    await expectSplitAt25("proxy serving both versions after reboot", 120_000);
  });
});
