// Soak: the local stack under steady load, with a routing change and a flag flip every 10 s, for
// AVIARY_SOAK_SECONDS (default 180); the resident memory of every process sampled over time.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pino from "pino";
import { intFromEnv } from "../core/env";
import { DEFAULT_PERIOD_FACTOR } from "../local/config";
import { setBooleanFlag } from "../local/flags";
import { Load } from "../harness/load";
import { descendants, rssBytes } from "../harness/procStat";
import { startLocalStack, type LocalStack } from "../local/stack";
import { setCanaryWeight } from "../state/routing";
import { stopWithCleanup } from "./processes";
import { benchQuick } from "./quick";

export const DEFAULT_SOAK_SECONDS = 180;
const QUICK_SOAK_SECONDS = 20;
const SAMPLES = 24;
const CHANGE_EVERY_MS = 10_000;
const BY = "bench-soak";

export function soakSeconds(env: NodeJS.ProcessEnv = process.env): number {
  return intFromEnv(env, "AVIARY_SOAK_SECONDS", benchQuick(env) ? QUICK_SOAK_SECONDS : DEFAULT_SOAK_SECONDS, 10, 86_400);
}

/** The stack's processes by role name, each with its pid (the runner is this process). */
function processes(stack: LocalStack): Map<string, number> {
  const out = new Map<string, number>([["runner (controller, evaluator, collector, dashboard, load generator)", process.pid]]);
  for (const name of stack.processes.names()) {
    const pid = stack.processes.get(name)?.proc.pid;
    if (pid !== undefined) out.set(name, pid);
  }
  for (const { pid, cmd } of descendants()) {
    if (/redis-server/.test(cmd)) out.set("redis-server", pid);
    else if (/^haproxy /.test(cmd)) out.set(out.has("haproxy (master)") ? "haproxy (worker)" : "haproxy (master)", pid);
  }
  return out;
}

const mb = (bytes: number): number => bytes / 2 ** 20;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchSoak(log: (line: string) => void = console.log): Promise<string> {
  const seconds = soakSeconds();
  const repoDir = path.resolve(__dirname, "..");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-bench-soak-"));
  const logger = pino({ level: "warn" }, pino.destination(`${runDir}-runner.log`));
  log(`soak: starting the local stack for ${seconds} s …`);
  const stack = await startLocalStack({ repoDir, runDir, proxyPort: 0, adminPort: 0, periodFactor: DEFAULT_PERIOD_FACTOR, logger });
  const stopStack = stopWithCleanup(async () => {
    await stack.stop();
    fs.rmSync(runDir, { recursive: true, force: true });
    fs.rmSync(`${runDir}-runner.log`, { force: true });
  });
  // Only totals are needed: keeping every sample would show up as the runner's growth.
  const load = new Load({ url: `${stack.proxyUrl}/`, concurrency: 4, pauseMs: 2, keepSamples: 1000 });
  const series = new Map<string, { at: number; mb: number }[]>();
  const t0 = Date.now();
  let changes = 0;
  const changer = setInterval(() => {
    changes++;
    void setCanaryWeight(stack.redis, changes % 2 === 0 ? stack.config.canary.canaryWeight : 30, { by: BY, reason: "soak" }).catch(() => undefined);
    void setBooleanFlag(stack.redis, "hiddenfeature", changes % 2 === 1, BY, "soak").catch(() => undefined);
  }, CHANGE_EVERY_MS);
  try {
    const every = (seconds * 1000) / SAMPLES;
    for (let i = 0; i <= SAMPLES; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, t0 + i * every - Date.now()));
      const at = (Date.now() - t0) / 1000;
      for (const [name, pid] of processes(stack)) {
        const rss = rssBytes(pid);
        if (rss > 0) series.set(name, [...(series.get(name) ?? []), { at, mb: mb(rss) }]);
      }
      log(`soak ${at.toFixed(0)} s / ${seconds} s: ${load.counts().total} requests, ${load.counts().failed} failed`);
    }
  } finally {
    clearInterval(changer);
    await load.stop();
    await stopStack();
  }
  const c = load.counts();
  // Growth: the last third's median against the first third's (after start-up), per process.
  const rows = [...series.entries()].map(([name, xs]) => {
    const third = Math.max(1, Math.floor(xs.length / 3));
    const first = median(xs.slice(0, third).map((x) => x.mb));
    const last = median(xs.slice(-third).map((x) => x.mb));
    const grew = last - first;
    const verdict = xs.length < 6 ? "too short-lived to judge" : grew > Math.max(5, first * 0.1) ? "**grew**" : "flat";
    const points = xs.filter((_, i) => i % 4 === 0 || i === xs.length - 1).map((x) => `${x.at.toFixed(0)} s ${x.mb.toFixed(1)}`).join(" · ");
    return { name, verdict, line: `| ${name} | ${first.toFixed(1)} | ${last.toFixed(1)} | ${grew >= 0 ? "+" : ""}${grew.toFixed(1)} | ${verdict} | ${points} |` };
  });
  const grown = rows.filter((r) => r.verdict === "**grew**").map((r) => r.name);
  return `## Soak (local mode, ${seconds} s)

\`AVIARY_SOAK_SECONDS=${seconds}\` (default ${DEFAULT_SOAK_SECONDS}; \`AVIARY_SOAK_SECONDS=600 npm run bench\` for 10 minutes): the local stack (\`AVIARY_PERIOD_FACTOR\` ${DEFAULT_PERIOD_FACTOR}) under 4 keep-alive clients for ${seconds} s, with the canary weight and \`hiddenfeature\` changed every ${CHANGE_EVERY_MS / 1000} s (${changes} changes: each an event, a pub/sub notice, an agent apply and a flag reload in every app). ${c.total} requests, ${c.failed} failed. Resident memory (RSS, MB, from /proc) of every process, sampled ${SAMPLES + 1} times; "growth" compares the median of the last third of the samples with the first third's, and counts as growth above 10% and 5 MB. Processes the controller started or stopped meanwhile (scale-in, since the load is light) have fewer samples. Redis's memory includes the event stream, which is capped at ~10,000 entries; the runner also runs the load generator (keeping its totals and the last 1,000 samples only).

| process | first third MB | last third MB | change MB | verdict | samples (time, MB) |
|---|---|---|---|---|---|
${rows.map((r) => r.line).join("\n")}

Result: ${grown.length === 0 ? "no process grew." : `growth in ${grown.join(", ")}: see the samples; a longer run (\`AVIARY_SOAK_SECONDS\`) tells a warm-up plateau from a leak.`}
`;
}
