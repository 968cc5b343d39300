// CPU and memory of live processes from /proc (Linux), for the local metrics collector and the bench.
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";

export const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim() || 100);

/** Fields after "pid (comm) ", so a command name with spaces cannot shift them (f[0] is field 3, state). */
export function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** User + system clock ticks of a live process and, optionally, its live descendants; 0 once it has exited. */
export function cpuTicks(pid: number, withDescendants = false): number {
  try {
    const f = statFields(pid);
    let ticks = Number(f[11]) + Number(f[12]); // utime, stime
    if (withDescendants) {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean)) ticks += cpuTicks(Number(c), true);
      }
    }
    return ticks;
  } catch {
    return 0;
  }
}

/** CPU milliseconds used so far (user + system). */
export const cpuMs = (pid: number, withDescendants = false): number => (cpuTicks(pid, withDescendants) * 1000) / CLK_TCK;

/** Resident set size in bytes; 0 once the process has exited. */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Live descendants of `root` (children, theirs, …) with their command lines, from /proc; zombies left out. */
export function descendants(root = process.pid): { pid: number; cmd: string }[] {
  // One pass over /proc (parent of every live process), then a walk down from root.
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = statFields(Number(d));
      if (f[0] === "Z") continue;
      const ppid = Number(f[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // exited while listing
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      try {
        out.push({ pid: child, cmd: fs.readFileSync(`/proc/${child}/cmdline`, "utf8").replace(/\0/g, " ").trim() });
      } catch {
        continue; // exited meanwhile
      }
      walk(child);
    }
  };
  walk(root);
  return out;
}
