// wrk against 127.0.0.1: one bounded load run (32 keep-alive connections, 3 s), parsed.
import { spawn } from "child_process";
import { children } from "./processes";

export const WRK_ARGS = ["-t1", "-c32", "-d3s", "--latency"];

export interface WrkResult { rps: number; p50: number; p99: number; requests: number }

function toMs(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v.trim());
  if (!m) throw new Error(`bad wrk latency ${v}`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

export function wrk(url: string): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const p = spawn("wrk", [...WRK_ARGS, url], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(p);
    p.on("error", (e) => reject(new Error(`cannot run wrk (${e.message}): \`bash scripts/setup.sh bench\` installs it`)));
    let out = "";
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (out += d));
    p.on("exit", (code) => {
      children.delete(p);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const p50 = /^\s+50%\s+(\S+)/m.exec(out);
      const p99 = /^\s+99%\s+(\S+)/m.exec(out);
      const requests = /(\d+) requests in/.exec(out);
      const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      if (code !== 0 || !rps || !p50 || !p99 || !requests) return reject(new Error(`wrk failed (${code}):\n${out}`));
      if (errs) return reject(new Error(`wrk saw ${errs[1]} non-2xx responses against ${url}`));
      resolve({ rps: Number(rps[1]), p50: toMs(p50[1]), p99: toMs(p99[1]), requests: Number(requests[1]) });
    });
  });
}
