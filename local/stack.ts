// The whole Aviary topology on one machine: a real redis-server, real HAProxy with the proxy agent
// (as processes, the bundles AWS instances run), the production fleet and the canary as sample-app
// processes, the alarm evaluator over the declared alarms, an SNS stand-in, the SAME controller
// handler the Lambda runs (with local adapters), and the dashboard.
import * as fs from "node:fs";
import * as path from "node:path";
import type Redis from "ioredis";
import type { Logger } from "pino";
import { LocalAlarms } from "../adapters/alarms/local";
import type { LocalFleet } from "../adapters/fleet/local";
import { LocalCollector } from "../adapters/metricsSink/local";
import { LocalNotifier } from "../adapters/notifier/local";
import { MetricsSampler } from "../agent/metrics";
import { canaryAlarms, prodAlarms } from "../core/alarms/definitions";
import type { Handler } from "../lambda/handler";
import { AGENT_ENTRY, APP_ENTRY, bundleApp } from "../release/bundles";
import { judgeAbortCounter } from "./judgeAborts";
import { readRollout } from "../state/rollout";
import { ActivityFeed } from "./activity";
import { AlarmEvaluator } from "./alarmEvaluator";
import { LocalAlarmTopic } from "./alarmTopic";
import { AppInstances } from "./appInstances";
import { applyCanaryConfig } from "./applyCanaryConfig";
import { loadLocalConfig, type LocalConfig } from "./config";
import { startDashboard, type Dashboard } from "./dashboard/server";
import { ensureFlags, setBooleanFlag, unkillFlag } from "./flags";
import type { RunningHaproxy } from "../harness/haproxy";
import { openKeptState } from "./keptState";
import { StackLifecycle } from "./lifecycle";
import { localController } from "./localController";
import { Supervisor } from "./processes";
import { prodFleet } from "./prodFleet";
import { localPromotion, ProdVersion } from "./promotion";
import { rolloutClock } from "./rolloutClock";
import { LocalPromoter } from "../adapters/promoter/local";
import type { RedisServer } from "../harness/redisServer";
import { startCanaries } from "./startCanaries";
import { startProxy } from "./startProxy";
import { startRedis } from "./startRedis";
import { chartHistorySize, statusReader, type LocalStatus } from "./status";
import { startTicks } from "./ticks";
import { waitUntilUp } from "./waitUntilUp";

export const DEPLOYMENT = "local";
export const LOCAL_ASG = "local-prod-fleet";
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

export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  const log = o.logger;
  const config = loadLocalConfig(o.repoDir);
  const { prod, canary } = config;
  if (!o.keepRunDir) fs.rmSync(o.runDir, { recursive: true, force: true });
  fs.mkdirSync(o.runDir, { recursive: true, mode: 0o700 });
  const progress = o.progress ?? ((): void => undefined);
  const activity = new ActivityFeed();
  const life = new StackLifecycle(activity, log);

  try {
    // Bundles: exactly what AppRelease uploads for the instances.
    progress("bundling the app and the agent");
    const appJs = path.join(o.runDir, "app.js");
    const agentJs = path.join(o.runDir, "agent.js");
    fs.writeFileSync(appJs, bundleApp(APP_ENTRY));
    fs.writeFileSync(agentJs, bundleApp(AGENT_ENTRY));

    progress("redis-server");
    const kept = o.stateDir === undefined ? undefined : openKeptState(o.stateDir, o.fresh === true);
    const { server: redisServer, client: redis } = await startRedis(life, log, kept);
    const supervisor = new Supervisor(path.join(o.runDir, "logs"), log);
    life.onStop(() => supervisor.stopAll());
    const apps = new AppInstances(life, supervisor, o.runDir, redisServer.url);

    // The controller first: the stack file's weight is its to write, before the agent reads routing.
    // Its alarms are the evaluator's, which starts once the fleet is up (no alarm reaches it before).
    const prodVersion = new ProdVersion(prod.appVersion);
    const fleet = prodFleet({ life, apps, prod, version: prodVersion, appJs, activity, log, progress });
    const alarms = new LocalAlarms(() => evaluator, (t) => topic.publish(t));
    const clock = rolloutClock({ life, redis, controller: () => controller, log });
    const promoter = new LocalPromoter(localPromotion({ version: prodVersion, fleet, controller: () => controller, activity, log }));
    const controller = localController({ redis, fleet, alarms, notifier: new LocalNotifier(activity, log, prod.alerts), scheduler: clock.scheduler, promoter, scaling: prod.scaling, periodFactor: o.periodFactor, log });
    const topic = new LocalAlarmTopic(controller, activity, log, [...prod.alerts.emails, ...prod.alerts.sms]);
    await applyCanaryConfig(controller, redis, canary, kept, o.periodFactor);
    await ensureFlags(redis, BY);

    progress("haproxy and the agent");
    const proxy = await startProxy({ life, apps, config, runDir: o.runDir, agentJs, redisUrl: redisServer.url, port: o.proxyPort, periodFactor: o.periodFactor });
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    await fleet.setDesired(prod.prodFleet.desired);
    await startCanaries(apps, canary, appJs, progress);

    progress("alarms and the controller");
    const evaluator = new AlarmEvaluator(
      [
        ...prodAlarms<string>(prod.thresholds, { deployment: DEPLOYMENT, autoScalingGroupName: LOCAL_ASG }),
        ...canaryAlarms<string>(canary.thresholds, { deployment: DEPLOYMENT }),
      ],
      DEPLOYMENT,
      o.periodFactor,
      Date.now(),
    );
    const shortestPeriodMs = 10_000 / o.periodFactor;
    const tickMs = o.tickMs ?? Math.max(100, shortestPeriodMs / 4);
    const collector = new LocalCollector(
      { deployment: DEPLOYMENT, autoScalingGroupName: LOCAL_ASG, sampler: MetricsSampler.forSocket(proxy.socket), fleetPids: () => fleet.pids(), judgeAborts: judgeAbortCounter(async () => (await readRollout(redis)).state) },
      evaluator,
      chartHistorySize(tickMs),
    );
    const betweenTicks = startTicks({ life, collector, evaluator, topic, tickMs, log });
    const status = statusReader({ config, deployment: DEPLOYMENT, periodFactor: o.periodFactor, proxyUrl, socket: proxy.socket, redis, fleet, prodVersion, evaluator, collector, activity, betweenTicks });

    progress("dashboard");
    const dashboard: Dashboard = await startDashboard({
      port: o.adminPort,
      status,
      setFlag: (key, on) => setBooleanFlag(redis, key, on, "dashboard", `turned ${on ? "on" : "off"} on the local dashboard`),
      unkillFlag: (key) => unkillFlag(redis, key, "dashboard", "un-killed on the local dashboard"),
      activity,
      logger: log,
    });
    life.onStop(() => dashboard.close());
    progress("waiting for the agent to put the fleet into haproxy");
    await waitUntilUp(redis, fleet, config, proxy.socket);
    clock.start();
    activity.add("runner", "local stack up", `proxy ${proxyUrl}, ${prod.prodFleet.desired} prod ${prod.appVersion} + ${canary.canaryCount} canary ${canary.appVersion} at ${canary.canaryWeight}%`);

    return { config, proxyUrl, adminUrl: dashboard.url, redisUrl: redisServer.url, redis, redisServer, processes: supervisor, haproxy: proxy.haproxy, controller, fleet, evaluator, activity, collector, status, stop: life.stop };
  } catch (err) {
    await life.stop();
    throw err;
  }
}
