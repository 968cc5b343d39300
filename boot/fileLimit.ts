// This machine's limit on open files, which every container inherits: root on an EC2 instance may
// raise it (CAP_SYS_RESOURCE; systemd hands services 1024:524288), root here may not (the capability
// is not in this machine's bounding set, the hard limit is what the machine gives). HAProxy needs
// about two descriptors per connection of its global maxconn, so the proxy's maxconn is lowered to
// what fits; everything else in its script runs as written.
import * as fs from "node:fs";

/** Hard RLIMIT_NOFILE of this process, from /proc/self/limits ("unlimited" as Infinity). */
export function hardFileLimit(limits: string = fs.readFileSync("/proc/self/limits", "utf8")): number {
  const line = limits.split("\n").find((l) => l.startsWith("Max open files"));
  const hard = line?.trim().split(/\s+/)[4];
  if (hard === undefined) throw new Error("no 'Max open files' line in /proc/self/limits");
  return hard === "unlimited" ? Infinity : Number(hard);
}

/** HAProxy 2.6 asks for 2 * maxconn plus its listeners, checks and pollers; 100 covers those here. */
export function maxconnWithin(hardLimit: number): number {
  return Math.floor((hardLimit - 100) / 2);
}

/** The script with its global maxconn lowered to fit `hardLimit`, when it does not already. */
export function withMaxconnWithin(script: string, hardLimit: number = hardFileLimit()): string {
  const fit = maxconnWithin(hardLimit);
  const m = /^ {4}maxconn (\d+)$/m.exec(script);
  if (!m) throw new Error("proxy user data: no global maxconn line to fit into this machine's file limit");
  return Number(m[1]) <= fit ? script : script.replace(m[0], `    maxconn ${fit}`);
}
