// One instance: an overlay on the cached root (the cache stays clean), a static address on the boot
// network, its user data run once at first boot by a oneshot unit, systemd as PID 1 under
// systemd-nspawn --boot. A reboot from inside (exit 133) starts the same root again, as
// systemd-nspawn@.service does with RestartForceExitStatus=133.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { BootNetwork } from "./network";
import { IMDS_ADDRESS } from "./network";

export const USER_DATA_PATH = "/var/lib/aviary-boot/user-data";
export const USER_DATA_DONE = "/var/lib/aviary-boot/user-data.done";
export const USER_DATA_LOG = "/var/log/cloud-init-output.log";
export const USER_DATA_UNIT = "aviary-user-data.service";

/**
 * cloud-init's scripts-user (cloud-final.service) as one unit: after network-online.target, once
 * per instance (a reboot does not run it again), output to cloud-init-output.log.
 */
export const USER_DATA_UNIT_TEXT = `[Unit]
Description=Instance user data, once per instance (cloud-final's scripts-user)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!${USER_DATA_DONE}

[Service]
Type=oneshot
RemainAfterExit=yes
TimeoutStartSec=infinity
ExecStart=/bin/sh -c '${USER_DATA_PATH} >>${USER_DATA_LOG} 2>&1; rc=$?; echo $rc > ${USER_DATA_DONE}; exit $rc'

[Install]
WantedBy=multi-user.target
`;

export function networkFile(address: string): string {
  return `[Match]
Name=host0

[Network]
Address=${address}/24
LinkLocalAddressing=no
IPv6AcceptRA=no

[Route]
Destination=${IMDS_ADDRESS}/32
Scope=link
`;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MachineSpec {
  /** Machine name (also the hostname): the run's prefix plus the instance's name. */
  name: string;
  address: string;
  userData: string;
}

export class BootMachine {
  private nspawn: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private stopping = false;
  readonly rootDir: string;

  constructor(readonly spec: MachineSpec, private readonly workDir: string, private readonly lowerDir: string, private readonly network: BootNetwork) {
    this.rootDir = path.join(workDir, "root");
  }

  /** Mounts the overlay and writes the instance's own files into it (before the first boot). */
  prepare(): void {
    for (const d of ["upper", "work", "root"]) fs.mkdirSync(path.join(this.workDir, d), { recursive: true });
    execFileSync("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${this.lowerDir},upperdir=${this.workDir}/upper,workdir=${this.workDir}/work`, this.rootDir]);
    const r = (p: string): string => path.join(this.rootDir, p);
    fs.writeFileSync(r("etc/hostname"), `${this.spec.name}\n`);
    fs.writeFileSync(r("etc/systemd/network/10-aviary.network"), networkFile(this.spec.address));
    fs.mkdirSync(path.dirname(r(USER_DATA_PATH)), { recursive: true, mode: 0o700 });
    fs.writeFileSync(r(USER_DATA_PATH), this.spec.userData, { mode: 0o700 });
    fs.writeFileSync(r(`etc/systemd/system/${USER_DATA_UNIT}`), USER_DATA_UNIT_TEXT);
    fs.mkdirSync(r("etc/systemd/system/multi-user.target.wants"), { recursive: true });
    fs.symlinkSync(`/etc/systemd/system/${USER_DATA_UNIT}`, r(`etc/systemd/system/multi-user.target.wants/${USER_DATA_UNIT}`));
  }

  /** Starts systemd in the container; restarts it on a reboot from inside until stop(). */
  start(): void {
    const child = spawn("systemd-nspawn", [
      "--boot", "--quiet", "--register=no", "--keep-unit", "--console=passive", "--link-journal=no", "--resolv-conf=off", "--timezone=off",
      `--machine=${this.spec.name}`, `--directory=${this.rootDir}`, `--network-bridge=${this.network.bridge}`,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    this.nspawn = child;
    this.exited = new Promise((resolve) => child.on("exit", (code) => {
      if (code === 133 && !this.stopping) this.start();
      else if (!this.stopping && code !== 0) process.stderr.write(`boot harness: ${this.spec.name} exited ${code}: ${stderr}\n`);
      resolve(code);
    }));
  }

  /** PID of the container's systemd (PID 1 inside), once it runs. */
  leaderPid(): number | undefined {
    const parent = this.nspawn?.pid;
    if (parent === undefined) return undefined;
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === parent && fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "systemd") return Number(entry);
      } catch {
        // The process ended while we read it.
      }
    }
    return undefined;
  }

  /**
   * Runs a command inside the container as root (all of its namespaces), like `machinectl shell`.
   * Asynchronous: the IMDS stand-in answers from this same process meanwhile.
   */
  exec(argv: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> {
    const pid = this.leaderPid();
    if (pid === undefined) return Promise.reject(new Error(`${this.spec.name}: not running`));
    const args = ["-t", String(pid), "-m", "-u", "-i", "-n", "-p", "-C", "--", "/usr/bin/env", "-i",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...argv];
    return new Promise((resolve, reject) => {
      execFile("nsenter", args, { encoding: "utf8", timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        if (err && !opts.allowFail) reject(new Error(`${this.spec.name}: ${argv.join(" ")} failed (${code}): ${stderr}${stdout}`));
        else resolve({ code, stdout, stderr });
      });
    });
  }

  /** Waits until systemd finished booting (the user data unit is part of the boot). */
  async waitBooted(timeoutMs = 240_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.leaderPid() !== undefined) {
        const r = await this.exec(["systemctl", "is-system-running", "--wait"], { allowFail: true, timeoutMs: Math.max(1000, deadline - Date.now()) });
        const state = r.stdout.trim();
        if (state === "running" || state === "degraded") return state;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error(`${this.spec.name}: did not finish booting in ${timeoutMs / 1000} s`);
  }

  /** Reboots from inside (systemctl reboot) and waits until the restarted systemd is up again. */
  async reboot(): Promise<void> {
    const before = this.leaderPid();
    await this.exec(["systemctl", "reboot"], { allowFail: true });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const now = this.leaderPid();
      if (now !== undefined && now !== before) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error(`${this.spec.name}: did not come back after reboot`);
  }

  /** Powers the container off (SIGKILL after 30 s) and unmounts its overlay. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.nspawn;
    const leader = this.leaderPid();
    if (child && child.exitCode === null && child.signalCode === null) {
      // nspawn turns SIGTERM into a clean poweroff of the container's systemd.
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await this.exited;
      clearTimeout(timer);
    }
    // A poweroff that hung outlives a killed nspawn: killing PID 1 of its namespace ends them all.
    if (leader !== undefined) killPid(leader);
    unmount(this.rootDir);
  }
}

export function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "ignore" });
  } catch {
    // Not mounted.
  }
}
