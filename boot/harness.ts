// Boot harness: runs each instance's real user data under a real systemd, the way EC2 runs it.
//
// One systemd-nspawn --boot container per instance on an overlay of a cached Debian bookworm root
// (rootImage.ts), on a private bridge with static addresses in a /24 and the IMDS stand-in on
// 169.254.169.254:80 at the bridge's host side (network.ts); nothing else is routed.
//
// User data runs from a first-boot oneshot unit ordered like cloud-init's cloud-final.service
// (after network-online.target, once per instance, output in /var/log/cloud-init-output.log), not
// from cloud-init's NoCloud datasource: what the scripts depend on is that ordering and the
// once-per-instance rule, both kept; cloud-init itself would add Python and its stages to every
// boot (seconds per container on two shared cores) and its other modules (users, ssh keys, growpart)
// do nothing these scripts rely on. What this cannot show: cloud-init's own parsing of the user
// data (the scripts are plain #! scripts, which cloud-init runs as they are).
//
// Everything a run makes is named by its run id: machines avb-<id>-<name>, the bridge avb<id>,
// overlays under WORK_BASE/<id>. close() removes them; a run killed before close() is swept by the
// next run (its owner pid is dead).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { startImds, type ImdsServer } from "./standins";
import { BootMachine, killPid, unmount } from "./machine";
import { createNetwork, IMDS_ADDRESS, removeLink, staleLinks, type BootNetwork } from "./network";
import { ensureRoot } from "./rootImage";
import { processAlive } from "../discovery/processAlive";

export const WORK_BASE = process.env.AVIARY_BOOT_WORK ?? "/var/tmp/aviary-boot";
export const BOOT_REGION = "us-east-1";

export interface InstanceSpec {
  /** Short name (letters, digits, '-'): the machine is avb-<run>-<name>. */
  name: string;
  userData: string;
  /** Writes the AWS stand-ins and their data into the instance's root before it boots. */
  prepareRoot?: (rootDir: string, instance: BootInstance) => void;
  /** Auto Scaling instances have a target lifecycle state in their metadata. */
  targetLifecycleState?: string;
}

export interface BootInstance {
  name: string;
  instanceId: string;
  address: string;
  machine: BootMachine;
}

/** nspawn processes whose command line names `dir` (a dead run's containers). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (cmd[0]?.endsWith("systemd-nspawn") && cmd.some((a) => a.startsWith(`--directory=${dir}/`))) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** Container init processes (systemd in its own PID namespace, hostname avb-<run>-…) of run `id`. */
function containerInits(id: string): number[] {
  const ours = fs.readlinkSync("/proc/self/ns/pid");
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== "systemd" || fs.readlinkSync(`/proc/${entry}/ns/pid`) === ours) continue;
      const host = execFileSync("nsenter", ["-t", entry, "-u", "hostname"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      if (host.startsWith(`avb-${id}-`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function mountsUnder(dir: string): string[] {
  return fs.readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "").filter((m) => m.startsWith(`${dir}/`)).sort().reverse();
}

/** Removes what runs whose jest process is gone left behind: containers, overlays, bridges. */
export async function sweepLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const live: string[] = [];
  fs.mkdirSync(WORK_BASE, { recursive: true });
  for (const id of fs.readdirSync(WORK_BASE)) {
    const dir = path.join(WORK_BASE, id);
    const owner = Number(fs.readFileSync(path.join(dir, "owner.pid"), { encoding: "utf8", flag: "a+" }) || "0");
    if (owner > 0 && processAlive(owner)) { live.push(id); continue; }
    for (const pid of [...processesUnder(dir), ...containerInits(id)]) {
      killPid(pid);
      removed.push(`process ${pid}`);
    }
    for (let i = 0; i < 50 && processesUnder(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    for (const m of mountsUnder(dir)) unmount(m);
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  for (const link of staleLinks(live)) {
    removeLink(link);
    removed.push(`link ${link}`);
  }
  return removed;
}

export class BootHarness {
  readonly instances = new Map<string, BootInstance>();
  imds: ImdsServer | undefined;

  private constructor(readonly runId: string, readonly workDir: string, readonly rootDir: string, readonly network: BootNetwork) {}

  /** Sweeps leftovers, builds or reuses the cached root, makes this run's bridge. */
  static async create(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<BootHarness> {
    const removed = await sweepLeftovers();
    if (removed.length > 0) log(`boot harness: removed leftovers of an earlier run: ${removed.join(", ")}`);
    const rootDir = ensureRoot(log);
    const runId = randomBytes(4).toString("hex");
    const workDir = path.join(WORK_BASE, runId);
    fs.mkdirSync(workDir, { recursive: true });
    fs.writeFileSync(path.join(workDir, "owner.pid"), String(process.pid));
    const network = createNetwork(runId, 16 + (randomBytes(1)[0] % 200));
    return new BootHarness(runId, workDir, rootDir, network);
  }

  /** Boots every instance (in parallel) and waits until each one's systemd is up and its user data ran. */
  async boot(specs: InstanceSpec[]): Promise<BootInstance[]> {
    const booted = specs.map((spec, i): BootInstance => {
      if (!/^[a-z0-9-]{1,20}$/.test(spec.name)) throw new Error(`boot harness: bad instance name ${spec.name}`);
      const address = `${this.network.prefix}.${10 + this.instances.size + i}`;
      const name = `avb-${this.runId}-${spec.name}`;
      const machine = new BootMachine({ name, address, userData: spec.userData }, path.join(this.workDir, spec.name), this.rootDir, this.network);
      return { name: spec.name, instanceId: `i-0${randomBytes(8).toString("hex").slice(0, 16)}`, address, machine };
    });
    this.imds = await startImds({
      host: IMDS_ADDRESS,
      port: 80,
      instances: Object.fromEntries(booted.map((b, i) => [b.address, {
        instanceId: b.instanceId, localIpv4: b.address, region: BOOT_REGION, availabilityZone: `${BOOT_REGION}a`,
        ...(specs[i].targetLifecycleState ? { targetLifecycleState: specs[i].targetLifecycleState } : {}),
      }])),
    });
    // Every address is known before any root is prepared: one instance's data names another's.
    for (const b of booted) this.instances.set(b.name, b);
    for (const [i, b] of booted.entries()) {
      b.machine.prepare();
      specs[i].prepareRoot?.(b.machine.rootDir, b);
      b.machine.start();
    }
    await Promise.all(booted.map((b) => b.machine.waitBooted()));
    return booted;
  }

  /** The user data's exit status and output (cloud-init-output.log). */
  async userDataResult(name: string): Promise<{ status: string; output: string }> {
    const m = this.get(name).machine;
    const status = (await m.exec(["cat", "/var/lib/aviary-boot/user-data.done"], { allowFail: true })).stdout.trim();
    const output = (await m.exec(["cat", "/var/log/cloud-init-output.log"], { allowFail: true })).stdout;
    return { status, output };
  }

  get(name: string): BootInstance {
    const i = this.instances.get(name);
    if (!i) throw new Error(`boot harness: no instance ${name}`);
    return i;
  }

  /** Stops and removes everything this run started. */
  async close(): Promise<void> {
    await Promise.all([...this.instances.values()].map((i) => i.machine.stop()));
    await this.imds?.close();
    removeLink(this.network.bridge);
    for (const m of mountsUnder(this.workDir)) unmount(m);
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}
