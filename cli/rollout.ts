/**
 * `aviary rollout status [--watch] | promote | abort --reason R | pause | resume | retry`.
 * status reads the rollout (state/rollout.ts) and judges the current step's live window (every
 * proxy's, summed) with the plan's analysis, as the controller will at the step's end; the other
 * commands go through the controller's rollout path (controller/run.ts handleRollout), so a command
 * the rollout's status does not allow is refused with the reason (exit 2) and nothing changes.
 */
import type { Command } from "commander";
import type Redis from "ioredis";
import pino from "pino";
import type { RolloutDeps } from "../controller/run";
import type { ControllerStore, Notifier } from "../controller/ports";
import { isActive, stepEndsAt, type RolloutCommand } from "../core/rollout/decide";
import { judge, type JudgeInput, type Judgement } from "../core/rollout/judge";
import type { RolloutState, StepResult } from "../core/rollout/model";
import { readRollout, readWindows } from "../state/rollout";
import { checkReason, table } from "./common";
import { printWatchable, watchable, type WatchableOptions } from "./watch";

export interface RolloutCommandContext {
  db: () => Redis;
  out: (s: string) => void;
  err: (s: string) => void;
  warn: (problems: readonly string[]) => void;
  /** Runs a person's command through the controller; resolves to its one-line summary. */
  command: (command: RolloutCommand) => Promise<{ summary: string }>;
  isTTY: boolean;
  signal: AbortSignal;
}

/** The current step's window as the proxies recorded it, and the judge's verdict on it now. */
export interface LiveWindow {
  step: number;
  proxies: number;
  window: JudgeInput;
  judgement: Judgement;
}

export interface RolloutReport {
  at: string;
  /** null = no rollout; undefined = garbage (problems say what). */
  rollout: RolloutState | null | undefined;
  /** Only while the rollout is progressing or paused and some proxy has recorded a window. */
  live?: LiveWindow;
  problems: string[];
}

export async function readRolloutReport(redis: Redis, now: Date): Promise<RolloutReport> {
  const at = now.toISOString();
  const { state, problems } = await readRollout(redis);
  if (!isActive(state)) return { at, rollout: state, problems };
  const windows = await readWindows(redis, state.id, state.step);
  const all = [...problems, ...windows.problems];
  if (windows.proxies === 0) return { at, rollout: state, problems: all };
  return { at, rollout: state, live: { step: state.step, proxies: windows.proxies, window: windows.sum, judgement: judge(windows.sum, state.plan.analysis) }, problems: all };
}

/** "4m05s", "59s", "1h02m": a pause or the time left of one. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  return m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

const bucket = (b: { from: number; to: number | null } | null): string => (b === null ? "none timed" : `${b.from}–${b.to ?? "∞"} ms`);

/** Each metric canary against production, with the numbers the verdict used. */
function metricRows(j: Judgement): string[][] {
  const e = j.errorRate;
  const l = j.latency;
  const q = `p${+(100 * l.quantile).toFixed(1)}`;
  return [
    ["METRIC", "CANARY", "PRODUCTION", "ALLOWED", "VERDICT"],
    ["5xx", `${e.canary.errors5xx}/${e.canary.requests} (${e.canary.ratePercent.toFixed(2)} %)`, `${e.production.errors5xx}/${e.production.requests} (${e.production.ratePercent.toFixed(2)} %)`,
      `+${e.allowedPoints} points (now ${e.differencePoints >= 0 ? "+" : ""}${e.differencePoints.toFixed(2)})`, e.verdict],
    [q, `${bucket(l.canary.quantileMs)} (${l.canary.timed} timed)`, `${bucket(l.production.quantileMs)} (${l.production.timed} timed)`,
      l.boundMs === null ? `×${l.allowedRatio} (no bound)` : `×${l.allowedRatio}: < ${l.boundMs} ms (${l.canary.atOrAboveBound} at or above)`, l.verdict],
  ];
}

function judgementBlock(title: string, j: Judgement): string {
  return `${title}: ${j.verdict}\n${table(metricRows(j)).replace(/^(?=.)/gm, "  ")}`;
}

function stepState(r: RolloutState, i: number, now: number): string {
  const result = [...r.results].reverse().find((x) => x.step === i);
  const judged = result ? `${result.verdict} (${result.judgedBy}, ${result.at})` : "";
  if (i !== r.step) return judged || (i < r.step ? "passed" : "-");
  if (r.status === "progressing") return `running, ${duration(Date.parse(stepEndsAt(r)) - now)} left${judged ? `; ${judged}` : ""}`;
  return [r.status, judged].filter(Boolean).join("; ");
}

/** The status as people read it: the rollout, its steps, the live window and the last verdict. */
export function rolloutText(report: RolloutReport): string {
  const r = report.rollout;
  if (r === null) return "no rollout (the canary keeps its fixed aviary:canaryWeight)\n";
  if (r === undefined) return `rollout state unreadable, nothing is acted on: ${report.problems.join("; ")}\n`;
  const now = Date.parse(report.at);
  const step = r.plan.steps[r.step];
  const left = r.status === "progressing" ? `, ${duration(Date.parse(stepEndsAt(r)) - now)} left` : "";
  const lines = [
    `rollout ${r.id} (app ${r.appVersion}): ${r.status}, step ${r.step + 1} of ${r.plan.steps.length} at weight ${step.weight} %${left}`,
    `reason: ${r.reason}`,
    `updated ${r.updatedAt} by ${r.updatedBy} (revision ${r.revision}); autoPromote ${r.plan.autoPromote ? "on" : "off"}`,
    "",
    table([["", "STEP", "WEIGHT", "PAUSE", "STATE"], ...r.plan.steps.map((s, i) => [i === r.step ? ">" : "", String(i + 1), `${s.weight} %`, duration(s.pauseSeconds * 1000), stepState(r, i, now)])]).trimEnd(),
  ];
  let text = lines.join("\n") + "\n";
  if (report.live) text += `\n${judgementBlock(`live window, step ${report.live.step + 1} (${report.live.proxies} ${report.live.proxies === 1 ? "proxy" : "proxies"})`, report.live.judgement)}`;
  else if (isActive(r)) text += `\nlive window, step ${r.step + 1}: no proxy has recorded one yet\n`;
  const last: StepResult | undefined = r.results.at(-1);
  if (last) text += `\n${judgementBlock(`last result, step ${last.step + 1} at weight ${last.weight} % (${last.judgedBy}, ${last.at})`, last.judgement)}`;
  return text;
}

/**
 * What the CLI does of a rollout decision: the write (through the store, under its user's name).
 * A person's command needs nothing else: a promotion it asks for and a wake-up at the step's end
 * are the controller's to carry out on its next tick (its heartbeat, local mode's tick loop).
 * Notices are printed, not sent (as for `canary off` from the CLI).
 */
export function cliRolloutDeps(store: ControllerStore, err: (s: string) => void): RolloutDeps {
  const notifier: Notifier = {
    notify: async (subject) => err(`aviary: not sent to subscribers (the CLI publishes nothing): ${subject}\n`),
    text: async (line) => err(`aviary: not sent to SMS subscribers: ${line}\n`),
  };
  return { store, notifier, logger: pino({ level: "warn", base: undefined }, { write: (s: string) => err(s) }) };
}

/** Registers `aviary rollout …` on the program. */
export function addRolloutCommands(program: Command, ctx: RolloutCommandContext): void {
  const rollout = program.command("rollout").description("follow and steer a progressive rollout (steps judged canary against production)");

  watchable(rollout.command("status").description("steps, current step and time left, each metric canary vs production")).action((o: WatchableOptions) =>
    printWatchable(o, { name: "aviary rollout status", read: (at) => readRolloutReport(ctx.db(), at), text: rolloutText, problems: (r) => r.problems, ...ctx }));

  const run = async (command: RolloutCommand): Promise<void> => {
    const r = await ctx.command(command);
    ctx.out(`${r.summary}\n`);
  };
  rollout.command("promote").description("promote the canary's version now (from progressing, paused or promotable)").action(() => run({ do: "promote" }));
  rollout
    .command("abort")
    .description("turn the canary off and end the rollout")
    .requiredOption("--reason <text>", "why, recorded in the rollout and the events")
    .action((o: { reason: string }) => run({ do: "abort", reason: checkReason(o.reason) }));
  rollout
    .command("pause")
    .description("hold the current step (no judging, no next step) until resume")
    .option("--reason <text>", "why, recorded in the rollout")
    .action(async (o: { reason?: string }) => run(o.reason === undefined ? { do: "pause" } : { do: "pause", reason: o.reason }));
  rollout.command("resume").description("resume a paused rollout: the step's clock and window start again").action(() => run({ do: "resume" }));
  rollout.command("retry").description("start an aborted rollout again from its first step").action(() => run({ do: "retry" }));
}
