// The agent's metrics sink in local mode, a stand-in for CloudWatch metrics: every tick it reads
// HAProxy's per-role numbers (the same MetricsSampler the agent publishes from on AWS) and the fleet
// processes' CPU and memory, feeds them to the alarm evaluator under the metric identities the alarm
// definitions read, and keeps a short history for the dashboard's chart.
import type { MetricsSampler, RoleMetrics } from "../../agent/metrics";
import type { MetricsSink } from "../../agent/ports";
import { FLEET_METRICS, fleetDimensions, PROXY_NAMESPACE, proxyDatums, proxyDimensions } from "../../core/metrics/naming";
import type { Role } from "../../core/routing/role";
import { metricKey, type AlarmEvaluator } from "../../local/alarmEvaluator";
import { CLK_TCK, cpuTicks, rssBytes } from "../../harness/procStat";

/**
 * Each local app process stands for one instance of this size: a quarter core (near a t3.small's
 * sustained CPU baseline) and 512 MB. CPUUtilization and mem_used_percent are relative to it, so a
 * 2-core laptop can drive the fleet past the committed thresholds.
 */
export const LOCAL_INSTANCE = { cpuCores: 0.25, memoryMb: 512 } as const;

export interface RolePoint {
  requests: number;
  errors5xx: number;
  latencyP99Ms: number | null;
}

export interface TrafficPoint {
  at: number;
  prod: RolePoint;
  canary: RolePoint;
  /** 100 · errors / requests of the canary in this tick; null without canary requests. */
  canaryErrorRatePct: number | null;
  /** Average CPUUtilization (of LOCAL_INSTANCE.cpuCores) over the fleet's processes; null with no process. */
  fleetCpuPct: number | null;
  fleetSize: number;
}

export interface CollectorSources {
  deployment: string;
  autoScalingGroupName: string;
  sampler: Pick<MetricsSampler, "sample">;
  /** instance id → pid of the production fleet's processes, now. */
  fleetPids: () => Map<string, number>;
  /** Rollouts the proxies' judges aborted since the last call (local/judgeAborts.ts), recorded as the agents' CanaryJudgeAborts. */
  judgeAborts?: () => Promise<number>;
}

const EMPTY: RolePoint = { requests: 0, errors5xx: 0, latencyP99Ms: null };

export class LocalCollector implements MetricsSink {
  private readonly points: TrafficPoint[] = [];
  private lastCpu = new Map<number, { ticks: number; at: number }>();

  constructor(private readonly sources: CollectorSources, private readonly evaluator: AlarmEvaluator, private readonly historySize = 300) {}

  /** One sampling step; returns the point it added (undefined for the baseline read). */
  async tick(now = Date.now()): Promise<TrafficPoint | undefined> {
    const roles = await this.sources.sampler.sample();
    const fleet = this.fleetUsage(now);
    const aborts = await this.sources.judgeAborts?.();
    await this.publish(aborts === undefined ? roles : roles.map((r) => (r.role === "canary" ? { ...r, judgeAborts: aborts } : r)));
    const fleetDims = fleetDimensions(this.sources.autoScalingGroupName);
    for (const { cpuPct, memPct } of fleet) {
      if (cpuPct !== undefined) this.evaluator.record(metricKey({ ...FLEET_METRICS.cpu, dimensions: fleetDims }), now, cpuPct);
      this.evaluator.record(metricKey({ ...FLEET_METRICS.memory, dimensions: fleetDims }), now, memPct);
    }
    if (roles.length === 0) return undefined;
    const role = (name: Role): RolePoint => {
      const m = roles.find((r) => r.role === name);
      return m ? { requests: m.requests, errors5xx: m.errors5xx, latencyP99Ms: m.latencyP99Ms } : EMPTY;
    };
    const cpus = fleet.flatMap((f) => (f.cpuPct === undefined ? [] : [f.cpuPct]));
    const canary = role("canary");
    const point: TrafficPoint = {
      at: now,
      prod: role("prod"),
      canary,
      canaryErrorRatePct: canary.requests > 0 ? (100 * canary.errors5xx) / canary.requests : null,
      fleetCpuPct: cpus.length > 0 ? cpus.reduce((a, b) => a + b, 0) / cpus.length : null,
      fleetSize: fleet.length,
    };
    this.points.push(point);
    if (this.points.length > this.historySize) this.points.shift();
    return point;
  }

  history(): readonly TrafficPoint[] {
    return this.points;
  }

  /** Records each role's datums at the sample's time, as CloudWatch takes the agent's Timestamp. */
  async publish(metrics: readonly RoleMetrics[]): Promise<void> {
    for (const m of metrics) {
      const dimensions = proxyDimensions(this.sources.deployment, m.role);
      for (const d of proxyDatums(m)) this.evaluator.record(metricKey({ namespace: PROXY_NAMESPACE, metricName: d.metricName, dimensions }), m.at.getTime(), d.value);
    }
  }

  /** CPU % of a local instance since the previous tick (undefined on a process's first tick) and memory %. */
  private fleetUsage(now: number): { cpuPct?: number; memPct: number }[] {
    const next = new Map<number, { ticks: number; at: number }>();
    const out: { cpuPct?: number; memPct: number }[] = [];
    for (const pid of this.sources.fleetPids().values()) {
      const ticks = cpuTicks(pid);
      next.set(pid, { ticks, at: now });
      const prev = this.lastCpu.get(pid);
      const memPct = (100 * rssBytes(pid)) / (LOCAL_INSTANCE.memoryMb * 1024 * 1024);
      if (prev === undefined || now <= prev.at) out.push({ memPct });
      else {
        const cores = (ticks - prev.ticks) / CLK_TCK / ((now - prev.at) / 1000);
        out.push({ cpuPct: Math.min(100, (100 * cores) / LOCAL_INSTANCE.cpuCores), memPct });
      }
    }
    this.lastCpu = next;
    return out;
  }
}
