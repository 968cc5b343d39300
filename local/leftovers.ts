// A runner that died without stopping its children (an older runner, or a child that escaped the
// parent-death signal) leaves them running: an orphaned HAProxy on the proxy port answers part of
// the next stack's requests. The runner records every descendant with what proves its identity, and
// the next start kills only those whose identity still matches (a reused pid is left alone).
import * as fs from "node:fs";
import { descendants, statFields } from "../harness/procStat";
import { TimeoutError } from "../core/errors";

export const CHILDREN_FILE = "children.json";

export interface ProcessRecord {
  pid: number;
  /** Clock ticks after boot at which the process started (/proc/<pid>/stat field 22). */
  startTicks: number;
  cmd: string;
}

/** The live process `pid` as it would be recorded, or undefined once it is gone. */
export function identify(pid: number): ProcessRecord | undefined {
  try {
    const f = statFields(pid);
    if (f[0] === "Z") return undefined;
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    return { pid, startTicks: Number(f[19]), cmd };
  } catch {
    return undefined;
  }
}

/** True when `r.pid` is still the very process that was recorded. */
export function stillRunning(r: ProcessRecord): boolean {
  const now = identify(r.pid);
  return now !== undefined && now.startTicks === r.startTicks && now.cmd === r.cmd;
}

/** Parses a children file; anything that is not a list of records counts as none. */
export function parseRecords(text: string): ProcessRecord[] {
  try {
    const list: unknown = JSON.parse(text);
    if (!Array.isArray(list)) return [];
    return list.filter((r): r is ProcessRecord => typeof r?.pid === "number" && typeof r?.startTicks === "number" && typeof r?.cmd === "string");
  } catch {
    return [];
  }
}

/** Keeps `file` listing the runner's live descendants (checked every `everyMs`), mode 0600. */
export class ChildRecorder {
  private last = "";
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string, everyMs = 1000) {
    this.timer = setInterval(() => this.record(), everyMs);
    this.timer.unref();
  }

  record(): void {
    const records = descendants().flatMap((d) => identify(d.pid) ?? []);
    const text = JSON.stringify(records, null, 1);
    if (text === this.last) return;
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.last = text;
  }

  /** A clean stop: nothing left to clean up next time. */
  close(): void {
    clearInterval(this.timer);
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * Kills (SIGKILL) every process recorded in `file` that is still the same process, waits up to
 * `waitMs` for them to go, and returns the ones it killed. The file is removed.
 */
export async function killLeftovers(file: string, waitMs = 5000): Promise<ProcessRecord[]> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const alive = parseRecords(text).filter(stillRunning);
  for (const r of alive) {
    try {
      process.kill(r.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + waitMs;
  while (alive.some(stillRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const stuck = alive.filter(stillRunning);
  if (stuck.length > 0) throw new TimeoutError(`leftover processes of a previous run did not die: ${stuck.map((r) => `${r.pid} (${r.cmd})`).join(", ")}`);
  fs.rmSync(file, { force: true });
  return alive;
}
