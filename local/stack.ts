// The whole Aviary topology on one machine: a real redis-server, real HAProxy with the proxy agent
// (as processes, the bundles AWS instances run), the production fleet and the canary as sample-app
// processes, the alarm evaluator over the declared alarms, an SNS stand-in, the SAME controller
// handler the Lambda runs (with local adapters), and the dashboard.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import type Redis from "ioredis";
import type { Logger } from "pino";
import { canaryAlarms, prodAlarms } from "../alarms/definitions";
import { MetricsSampler, parseShowStat } from "../agent/metrics";
import { runtimeCommand } from "../agent/runtimeApi";
import { RedisControllerStore } from "../controller/adapters/redisStore";
import type { FleetState } from "../core/controller/decide";
import type { Role } from "../core/routing/role";
import type { Alarms, Notifier } from "../controller/ports";
import { BACKEND, renderHaproxyConfig, slotRole } from "../haproxy/config";
import { createHandler, type Handler, type SnsEvent } from "../lambda/handler";
import { AGENT_ENTRY, APP_ENTRY, bundleApp } from "../release/bundles";
import { connect } from "../state/connection";
import { listBackends } from "../state/registry";
import type { AviaryEvent } from "../state/events";
import { readRouting, setCanaryWeight, type RoutingState } from "../state/routing";
import { readSection, type SectionHealth } from "../state/section";
import { backendsSection, eventsSection, flagsSection, routingSection } from "../state/statusSections";
import { ActivityFeed, type Activity } from "./activity";
import { AlarmEvaluator, cloudWatchMessage, type AlarmTransition } from "./alarmEvaluator";
import { LocalCollector } from "./collector";
import { loadLocalConfig, type LocalConfig } from "./config";
import { alarmView, type AlarmView } from "./dashboard/alarmView";
import { chartSeries, type ChartSeries } from "./dashboard/series";
import { startDashboard, type Dashboard } from "./dashboard/server";
import { splitView, type SplitView } from "./dashboard/split";
import { LocalFleet } from "./fleet";
import { describeFlags, ensureFlags, setBooleanFlag, unkillFlag, type FlagSummary } from "./flags";
import { freePort } from "./freePort";
import { startHaproxy, type RunningHaproxy } from "./haproxy";
import { KeepAlive } from "./keepAlive";
import { openKeptState, readApplied, shouldApplyWeight, writeApplied } from "./keptState";
import { Supervisor, type Managed } from "./processes";
import { startRedisServer, type RedisServer } from "./redisServer";
import { until } from "./until";
import { logComponent } from "../core/logComponent";

export const DEPLOYMENT = "local";
export const LOCAL_ASG = "local-prod-fleet";
/** The dashboard chart's span and bucket. */
const CHART_WINDOW_SECONDS = 300;
const CHART_STEP_SECONDS = 2;
/** Longest a dashboard read may hold back the metrics and alarm ticks. */
const BETWEEN_TICKS_MAX_MS = 2000;
/** Who local-mode writes are attributed to in the event stream. */
const BY = "local-runner";

export interface LocalStackOptions {
  /** Where Pulumi.prod.yaml and Pulumi.canary.yaml live. */
  repoDir: string;
  /** Logs, sockets, bundles, flag snapshots. Emptied at start unless `keepRunDir` (the caller emptied it). */
  runDir: string;
  /**
   * Kept across starts (`.aviary/` for `npm start`): Redis's data (flags, routing, events) and its
   * password. Without it every start begins from a temporary, empty Redis.
   */
  stateDir?: string;
  /** Empty the kept data first (`npm start -- --fresh`). */
  fresh?: boolean;
  keepRunDir?: boolean;
  /** Told as each start-up step begins ("redis-server", "fleet 1/3 up", …). */
  progress?: (step: string) => void;
  /** 0 = any free port (tests). */
  proxyPort: number;
  adminPort: number;
  periodFactor: number;
  logger: Logger;
  /** Metrics and alarm evaluation step. Default: a quarter of the shortest local period. */
  tickMs?: number;
}

export interface LocalStatus {
  /** Increases with every status; the page never renders an older one over a newer one. */
  snapshot: number;
  at: string;
  proxyUrl: string;
  deployment: string;
  periodFactor: number;
  versions: { prod: string; canary: string };
  /** Which parts could be read: a broken one names its key and shows as empty (routing: null). */
  sections: Record<"routing" | "backends" | "flags" | "events" | "proxy", SectionHealth>;
  routing: RoutingState | null;
  split: SplitView;
  /** proxyWeight: the HAProxy server weight the agent applied (null when not in the proxy). */
  backends: { id: string; role: string; version: string; address: string; draining: boolean; proxyStatus: string; proxyWeight: number | null }[];
  fleet: FleetState;
  flags: FlagSummary[];
  alarms: AlarmView[];
  activity: Activity[];
  events: AviaryEvent[];
  chart: ChartSeries;
}

export interface LocalStack {
  config: LocalConfig;
  proxyUrl: string;
  adminUrl: string;
  redisUrl: string;
  redis: Redis;
  /** The redis-server process (fault tests kill and restart it). */
  redisServer: RedisServer;
  /** Every child process but Redis and HAProxy: "agent", "canary-<n>", the fleet's "prod-<n>". */
  processes: Supervisor;
  /** The running HAProxy (a new one after a crash). */
  haproxy(): RunningHaproxy;
  /** The controller handler local mode delivers alarm notifications to (the Lambda's, local adapters). */
  controller: Handler;
  fleet: LocalFleet;
  evaluator: AlarmEvaluator;
  activity: ActivityFeed;
  collector: LocalCollector;
  status(): Promise<LocalStatus>;
  /** Stops everything it started, newest first; safe to call twice. */
  stop(): Promise<void>;
}

function httpOk(port: number, pathName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: pathName, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

/** HAProxy's view of each slot's server address in backend "app": status ("UP", "DOWN", "MAINT", ...) and weight. */
async function proxyServers(socket: string): Promise<Map<string, { status: string; weight: number }>> {
  const rows = parseShowStat(await runtimeCommand(socket, "show stat"));
  return new Map(rows.filter((r) => r.pxname === BACKEND && slotRole(r.svname) !== undefined && r.addr).map((r) => [r.addr, { status: r.status, weight: Number(r.weight) }]));
}

async function proxyStatuses(socket: string): Promise<Map<string, string>> {
  return new Map([...(await proxyServers(socket))].map(([addr, s]) => [addr, s.status]));
}

/** Resolves when p settles or after ms, whichever comes first; never rejects. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    const settle = (): void => {
      clearTimeout(timer);
      done();
    };
    p.then(settle, settle);
  });
}

export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  const log = o.logger;
  const config = loadLocalConfig(o.repoDir);
  const { prod, canary } = config;
  if (!o.keepRunDir) fs.rmSync(o.runDir, { recursive: true, force: true });
  fs.mkdirSync(o.runDir, { recursive: true, mode: 0o700 });
  const progress = o.progress ?? ((): void => undefined);

  const activity = new ActivityFeed();
  // As systemd does for each service on the instances: a process that exits on its own is started again.
  const keeper = new KeepAlive({
    restarted: (name, how, delayMs) => {
      activity.add("runner", `${name} exited (${how}), restarted`, `after ${delayMs / 1000} s, as systemd's Restart=always does on the instance`);
      log.warn({ process: name, exit: how, delayMs }, "process exited, restarted");
    },
    gaveUp: (name, how, reason) => {
      activity.add("runner", `${name} exited (${how}), not restarted`, `${reason}: stopped restarting, as systemd's start limit does`);
      log.error({ process: name, exit: how, reason }, "process exited, not restarted");
    },
    failed: (name, err) => log.error({ process: name, err: err.message }, "restart failed"),
  });
  // Run first on stop: nothing that stop() ends may be restarted or replaced.
  const halts: (() => void)[] = [() => keeper.stop()];
  const cleanups: (() => Promise<void> | void)[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const h of halts) h();
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        log.warn({ err: (err as Error).message }, "cleanup step failed");
      }
    }
  };

  try {
    // Bundles: exactly what AppRelease uploads for the instances.
    progress("bundling the app and the agent");
    const appJs = path.join(o.runDir, "app.js");
    const agentJs = path.join(o.runDir, "agent.js");
    fs.writeFileSync(appJs, bundleApp(APP_ENTRY));
    fs.writeFileSync(agentJs, bundleApp(AGENT_ENTRY));

    progress("redis-server");
    const kept = o.stateDir === undefined ? undefined : openKeptState(o.stateDir, o.fresh === true);
    keeper.started("redis-server");
    const redisServer: RedisServer = await startRedisServer({
      persist: true,
      ...(kept ? { dataDir: kept.redisDir, password: kept.password } : {}),
      onCrash: (code, signal) =>
        keeper.exited("redis-server", code, signal, async () => {
          keeper.started("redis-server");
          await redisServer.restart();
        }),
    });
    cleanups.push(() => redisServer.stop());
    const redis = connect(redisServer.url, { logger: log });
    cleanups.push(() => void redis.disconnect());
    const lastApplied = kept ? readApplied(kept.dataDir) : undefined;
    if (shouldApplyWeight(canary.canaryWeight, lastApplied, (await readRouting(redis)).state !== undefined)) {
      await setCanaryWeight(redis, canary.canaryWeight, { by: BY, reason: `aviary:canaryWeight in Pulumi.canary.yaml` });
    }
    if (kept) writeApplied(kept.dataDir, { canaryWeight: canary.canaryWeight });
    await ensureFlags(redis, BY);

    const supervisor = new Supervisor(path.join(o.runDir, "logs"), log);
    cleanups.push(() => supervisor.stopAll());

    // HAProxy + agent. Enough prod slots for the fleet's max.
    progress("haproxy and the agent");
    const proxyPort = o.proxyPort || (await freePort());
    const socket = path.join(o.runDir, "haproxy.sock");
    const cfg = path.join(o.runDir, "haproxy.cfg");
    const slots = { prod: prod.prodFleet.max, canary: canary.canaryCount };
    fs.writeFileSync(cfg, renderHaproxyConfig({ bind: `127.0.0.1:${proxyPort}`, statsBind: `127.0.0.1:${await freePort()}`, socketPath: socket, prodSlots: slots.prod, canarySlots: slots.canary, checkIntervalMs: Math.max(100, Math.round(1000 / o.periodFactor)), latencyThresholdMs: prod.thresholds.canaryP99Ms, accessLog: prod.proxy.accessLog }));
    const startProxy = async (): Promise<RunningHaproxy> => {
      keeper.started("haproxy");
      const h = await startHaproxy(cfg, socket, path.join(o.runDir, "logs", "haproxy.log"));
      h.proc.once("exit", (code, signal) => {
        // A dead master can leave workers holding the port: end its whole process group (it runs detached).
        try {
          if (h.proc.pid !== undefined) process.kill(-h.proc.pid, "SIGKILL");
        } catch {
          // none left
        }
        if (!stopped) keeper.exited("haproxy", code, signal, async () => void (haproxy = await startProxy()));
      });
      return h;
    };
    let haproxy: RunningHaproxy = await startProxy();
    // Before the supervisor's stop in reverse order: apps drain through a live proxy first.
    cleanups.splice(cleanups.length - 1, 0, () => haproxy.stop());
    /** Starts `name` and starts it again whenever it exits on its own (agent, canaries). */
    const keepRunning = (name: string, env: NodeJS.ProcessEnv, args: string[]): Managed => {
      const start = (): Managed => {
        keeper.started(name);
        return supervisor.spawn(name, process.execPath, args, { env, onUnexpectedExit: (code, signal) => keeper.exited(name, code, signal, start) });
      };
      return start();
    };
    keepRunning("agent", { ...process.env, REDIS_URL: redisServer.url, HAPROXY_SOCKET: socket, AVIARY_PROD_SLOTS: String(slots.prod), AVIARY_CANARY_SLOTS: String(slots.canary), AVIARY_DEPLOYMENT: "" }, [agentJs]);

    const appEnv = (id: string, role: Role, version: string, port: number): NodeJS.ProcessEnv => ({
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      AVIARY_ROLE: role,
      AVIARY_VERSION: version,
      AVIARY_INSTANCE_ID: id,
      AVIARY_ADDRESS: `127.0.0.1:${port}`,
      REDIS_URL: redisServer.url,
      AVIARY_FLAG_SNAPSHOT: path.join(o.runDir, `flags-${id}.json`),
      // Faster than on AWS so a killed process leaves the registry within seconds.
      AVIARY_HEARTBEAT_MS: "1000",
      AVIARY_TTL_SECONDS: "5",
      AVIARY_DRAIN_DELAY_MS: "500",
      AVIARY_DEMO_FAULTS: "on",
    });
    const healthy = (id: string, port: number): Promise<void> => until(`${id} /healthz`, () => httpOk(port, "/healthz"), 20_000);

    let fleetReady = 0;
    const fleet = new LocalFleet({
      min: prod.prodFleet.min,
      max: prod.prodFleet.max,
      launch: (id, port) => supervisor.spawn(id, process.execPath, [appJs], { env: appEnv(id, "prod", prod.appVersion, port) }),
      ready: async (id, port) => {
        await healthy(id, port);
        // Start-up progress only; replacements later are activity events.
        if (fleetReady < prod.prodFleet.desired) progress(`fleet ${++fleetReady}/${prod.prodFleet.desired} up`);
      },
      onReplace: (lost, how, outcome) => {
        if ("replacement" in outcome) {
          activity.add("runner", `${lost} exited (${how}), replaced by ${outcome.replacement}`, `as the Auto Scaling group replaces a lost instance to keep desired ${fleet.desiredCapacity()}`);
          log.warn({ lost, exit: how, replacement: outcome.replacement }, "fleet instance lost, replaced");
        } else {
          activity.add("runner", `${lost} exited (${how}), not replaced`, outcome.error);
          log.error({ lost, exit: how, err: outcome.error }, "fleet instance lost, not replaced");
        }
      },
    });
    halts.push(() => fleet.halt());
    await fleet.setDesired(prod.prodFleet.desired);
    for (let i = 1; i <= canary.canaryCount; i++) {
      progress(`canary ${i}/${canary.canaryCount}`);
      const port = await freePort();
      keepRunning(`canary-${i}`, appEnv(`canary-${i}`, "canary", canary.appVersion, port), [appJs]);
      await healthy(`canary-${i}`, port);
    }

    // Alarms, SNS stand-in, controller.
    progress("alarms and the controller");
    const periodFactor = o.periodFactor;
    const evaluator = new AlarmEvaluator(
      [
        ...prodAlarms<string>(prod.thresholds, { deployment: DEPLOYMENT, autoScalingGroupName: LOCAL_ASG }),
        ...canaryAlarms<string>(canary.thresholds, { deployment: DEPLOYMENT }),
      ],
      DEPLOYMENT,
      periodFactor,
      Date.now(),
    );
    const subscribers = [...prod.alerts.emails, ...prod.alerts.sms];
    const notifier: Notifier = {
      notify: async (subject, message) => {
        activity.add("controller", subject, message);
        log.info({ subject, message, wouldDeliverTo: subscribers }, "controller notification (SNS stand-in)");
      },
      text: async (line) => log.info({ line, wouldDeliverTo: prod.alerts.sms }, "controller SMS line (SNS stand-in)"),
    };
    let messageSerial = 0;
    // Publishing on the "topic": subscribers get the alert, the controller gets the SNS record.
    const publishAlarm = async (t: AlarmTransition): Promise<void> => {
      activity.add("alarm", `${t.definition.key} → ${t.newState}`, t.reason);
      log.info({ alarm: t.name, from: t.oldState, to: t.newState, wouldDeliverTo: subscribers }, "alarm notification (SNS stand-in)");
      messageSerial += 1;
      const event: SnsEvent = {
        Records: [{ EventSource: "aws:sns", Sns: { MessageId: `local-${Date.now()}-${messageSerial}`, Message: cloudWatchMessage(t), Subject: `${t.newState}: "${t.name}"`, Timestamp: new Date(t.at).toISOString(), Type: "Notification" } }],
      };
      try {
        await controller(event);
      } catch (err) {
        // On AWS SNS would retry; locally the alarm stays in its state and the next transition re-drives it.
        activity.add("runner", "controller failed", (err as Error).message);
        log.error({ err: (err as Error).message, alarm: t.name }, "controller invocation failed");
      }
    };
    const alarms: Alarms = {
      rearm: async (name, reason) => {
        const t = evaluator.setState(name, "OK", reason, Date.now());
        // CloudWatch notifies on SetAlarmState too; deliver it after the current invocation returns.
        if (t) setImmediate(() => void publishAlarm(t));
      },
      states: async (names) => Object.fromEntries(evaluator.states().filter((s) => names.includes(s.name)).map((s) => [s.name, s.state])),
    };
    const store = new RedisControllerStore(redis, "controller", { ttlMs: 35_000, waitMs: 20_000 }, (problems) => log.warn({ problems }, "ignoring invalid state in Redis"));
    const controller = createHandler(() => ({
      fleet,
      notifier,
      alarms,
      store,
      policy: {
        step: prod.scaling.step,
        scaleOutCooldownSeconds: prod.scaling.scaleOutCooldownSeconds / periodFactor,
        scaleInCooldownSeconds: prod.scaling.scaleInCooldownSeconds / periodFactor,
      },
      logger: log.child(logComponent("aviary-controller")),
      drainWaitMs: 500,
    }));

    const shortestPeriodMs = 10_000 / periodFactor;
    const tickMs = o.tickMs ?? Math.max(100, shortestPeriodMs / 4);
    const collector = new LocalCollector(
      { deployment: DEPLOYMENT, autoScalingGroupName: LOCAL_ASG, sampler: MetricsSampler.forSocket(socket), fleetPids: () => fleet.pids() },
      evaluator,
      Math.ceil((CHART_WINDOW_SECONDS * 1000) / tickMs) + 1,
    );
    let ticking = Promise.resolve();
    // Runs f between ticks, never inside one: a status read mid-rollback would mix the state before
    // and after the controller's writes. Bounded both ways: a stuck tick (a controller waiting on a
    // lock) delays a read by at most BETWEEN_TICKS_MAX_MS, and a read stuck on a frozen Redis holds
    // the ticks back by at most as long (alarms must keep being evaluated).
    const betweenTicks = <T>(f: () => Promise<T>): Promise<T> => {
      const run = settledWithin(ticking, BETWEEN_TICKS_MAX_MS).then(f);
      ticking = ticking.then(() => settledWithin(run, BETWEEN_TICKS_MAX_MS));
      return run;
    };
    const timer = setInterval(() => {
      // One tick at a time: a slow controller run delays the next evaluation rather than overlapping it.
      ticking = ticking.then(async () => {
        try {
          await collector.tick();
          for (const t of evaluator.evaluate(Date.now())) await publishAlarm(t);
        } catch (err) {
          log.warn({ err: (err as Error).message }, "metrics tick failed");
        }
      });
    }, tickMs);
    cleanups.push(async () => {
      clearInterval(timer);
      await ticking;
    });

    let snapshot = 0;
    const canaryThresholds = { canary5xxPct: canary.thresholds.canaryErrorRate, canaryP99Ms: canary.thresholds.canaryP99Ms };
    // One consistent snapshot: read between ticks, so no alarm, controller action or routing write
    // lands half-way through it.
    const status = (): Promise<LocalStatus> => betweenTicks(async () => {
      const [routing, backends, flags, events, proxy, fleetState] = await Promise.all([
        routingSection(redis),
        backendsSection(redis),
        flagsSection(redis),
        eventsSection(redis, 30),
        readSection(async () => ({ value: await proxyServers(socket), problems: [] }), undefined),
        fleet.describe(),
      ]);
      const now = Date.now();
      const history = collector.history();
      snapshot += 1;
      return {
        snapshot,
        at: new Date(now).toISOString(),
        proxyUrl: `http://127.0.0.1:${proxyPort}`,
        deployment: DEPLOYMENT,
        periodFactor,
        versions: { prod: prod.appVersion, canary: canary.appVersion },
        sections: { routing: routing.health, backends: backends.health, flags: flags.health, events: events.health, proxy: proxy.health },
        routing: routing.value,
        split: splitView(history, routing.value, now, 10),
        backends: backends.value.map((b) => {
          const p = proxy.value?.get(b.address);
          return { id: b.id, role: b.role, version: b.version, address: b.address, draining: b.draining === true, proxyStatus: p?.status ?? (proxy.value ? "not in proxy" : "unknown"), proxyWeight: p?.weight ?? null };
        }),
        fleet: fleetState,
        flags: describeFlags(flags.value),
        alarms: evaluator.states().map((a) => alarmView(a, fleetState)),
        activity: activity.recent(50),
        events: events.value,
        chart: chartSeries(history, now, { windowSeconds: CHART_WINDOW_SECONDS, stepSeconds: CHART_STEP_SECONDS, thresholds: canaryThresholds }),
      };
    });

    progress("dashboard");
    const dashboard: Dashboard = await startDashboard({
      port: o.adminPort,
      status,
      setFlag: (key, on) => setBooleanFlag(redis, key, on, "dashboard", `turned ${on ? "on" : "off"} on the local dashboard`),
      unkillFlag: (key) => unkillFlag(redis, key, "dashboard", "un-killed on the local dashboard"),
      activity,
      logger: log,
    });
    cleanups.push(() => dashboard.close());
    progress("waiting for the agent to put the fleet into haproxy");
    // Up means every instance has registered (the canary too, so the first status lists it) and the
    // agent has put the fleet into HAProxy.
    const expected = [...(await fleet.describe()).instances.map((i) => i.id), ...Array.from({ length: canary.canaryCount }, (_, i) => `canary-${i + 1}`)];
    await until("every instance registered", async () => {
      const registered = new Set((await listBackends(redis)).backends.map((b) => b.id));
      return expected.every((id) => registered.has(id));
    }, 20_000);
    await until("agent applied the fleet to haproxy", async () => [...(await proxyStatuses(socket)).values()].filter((s) => s === "UP").length >= prod.prodFleet.desired, 20_000);
    activity.add("runner", "local stack up", `proxy http://127.0.0.1:${proxyPort}, ${prod.prodFleet.desired} prod ${prod.appVersion} + ${canary.canaryCount} canary ${canary.appVersion} at ${canary.canaryWeight}%`);

    return { config, proxyUrl: `http://127.0.0.1:${proxyPort}`, adminUrl: dashboard.url, redisUrl: redisServer.url, redis, redisServer, processes: supervisor, haproxy: () => haproxy, controller, fleet, evaluator, activity, collector, status, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
