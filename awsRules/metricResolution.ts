// Whether a CloudWatch alarm can see the data it needs, from what publishes its metrics.
//
// Written from:
// - CloudWatch PutMetricAlarm, Period: "Valid values are 10, 20, 30, and any multiple of 60 ...
//   specify 10, 20, or 30 only for metrics that are stored by a PutMetricData call with a
//   StorageResolution of 1 ... it does not receive data for the attempts that do not correspond
//   to a one-minute data resolution"; Period x EvaluationPeriods <= 86,400 s for periods < 1 h.
// - CloudWatch "Configuring how CloudWatch alarms treat missing data": notBreaching counts a
//   missing datapoint as within the threshold, breaching as over it; missing/ignore do not count it.
// - EC2 "Enable or turn off detailed monitoring": basic monitoring publishes every 5 minutes,
//   detailed monitoring every minute (launch template Monitoring.Enabled, instance Monitoring).
// - CloudWatch agent configuration, agent.metrics_collection_interval: below 60 s metrics are
//   high resolution; the default is 60.
// - Auto Scaling EnableMetricsCollection: Granularity "1Minute" is the only valid value.
// - adapters/metricsSink/aws.ts + agent/metricsLoop.ts: the proxy agent's own PutMetricData.
import type { TreatMissingData } from "../core/alarms/definitions";

/** What puts one metric into CloudWatch: how often, and at which storage resolution. */
export interface MetricPublisher {
  /** Human-readable origin, for messages ("EC2 basic monitoring of prod"). */
  source: string;
  /** Seconds between two datapoints of one series. */
  intervalSeconds: number;
  /** 1 (high resolution, StorageResolution 1) or 60 (standard). */
  storageResolutionSeconds: 1 | 60;
}

/** One metric an alarm reads, with the period it reads it at. */
export interface AlarmMetricRead {
  namespace: string;
  metricName: string;
  periodSeconds: number;
}

/** The parts of a MetricAlarm that decide whether it can fire. */
export interface AlarmShape {
  name: string;
  metrics: AlarmMetricRead[];
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
}

export interface AlarmVerdict {
  /** Every period of every metric the alarm reads holds at least one datapoint. */
  everyPeriodBacked: boolean;
  /** M of N with this treatMissingData can reach ALARM from the datapoints that exist. */
  canReachAlarm: boolean;
  problems: string[];
}

const EC2_BASIC_SECONDS = 300;
const EC2_DETAILED_SECONDS = 60;

/** AWS/EC2 metrics of an instance (or of the instances a launch template starts). */
export function ec2MonitoringPublisher(source: string, detailed: boolean): MetricPublisher {
  return {
    source: `EC2 ${detailed ? "detailed" : "basic"} monitoring of ${source}`,
    intervalSeconds: detailed ? EC2_DETAILED_SECONDS : EC2_BASIC_SECONDS,
    storageResolutionSeconds: 60,
  };
}

/** CWAgent metrics at the agent's metrics_collection_interval. */
export function cloudWatchAgentPublisher(source: string, collectionIntervalSeconds: number): MetricPublisher {
  return {
    source: `CloudWatch agent on ${source} (every ${collectionIntervalSeconds} s)`,
    intervalSeconds: collectionIntervalSeconds,
    storageResolutionSeconds: collectionIntervalSeconds < 60 ? 1 : 60,
  };
}

/** A program's own PutMetricData loop. */
export function putMetricDataPublisher(source: string, intervalSeconds: number, storageResolution: number): MetricPublisher {
  if (storageResolution !== 1 && storageResolution !== 60) throw new Error(`${source}: StorageResolution must be 1 or 60 (got ${storageResolution})`);
  return { source: `${source} (every ${intervalSeconds} s, StorageResolution ${storageResolution})`, intervalSeconds, storageResolutionSeconds: storageResolution };
}

/** AWS/AutoScaling group metrics; "1Minute" is the only granularity AWS accepts. */
export function groupMetricsPublisher(source: string, granularity: string): MetricPublisher {
  if (granularity !== "1Minute") throw new Error(`${source}: metricsGranularity must be 1Minute (got ${granularity})`);
  return { source: `group metrics of ${source}`, intervalSeconds: 60, storageResolutionSeconds: 60 };
}

/** Problems with a period as such, whatever publishes the metric. */
function periodProblems(name: string, m: AlarmMetricRead, publisher: MetricPublisher, evaluationPeriods: number): string[] {
  const p = m.periodSeconds;
  const problems: string[] = [];
  const highResolutionPeriod = p === 10 || p === 20 || p === 30;
  if (!highResolutionPeriod && !(Number.isInteger(p) && p > 0 && p % 60 === 0)) {
    problems.push(`${name}: period ${p} s of ${m.namespace}/${m.metricName} is not 10, 20, 30 or a multiple of 60`);
  }
  if (highResolutionPeriod && publisher.storageResolutionSeconds !== 1) {
    problems.push(`${name}: period ${p} s of ${m.namespace}/${m.metricName} needs StorageResolution 1, but ${publisher.source} stores it per minute`);
  }
  if (p < 3600 && p * evaluationPeriods > 86_400) problems.push(`${name}: ${evaluationPeriods} periods of ${p} s exceed one day`);
  return problems;
}

/** At most how many of N consecutive periods can hold a datapoint of this publisher. */
function periodsWithData(periodSeconds: number, evaluationPeriods: number, publisher: MetricPublisher): number {
  // A series is stored no finer than its storage resolution.
  const every = Math.max(publisher.intervalSeconds, publisher.storageResolutionSeconds);
  if (every <= periodSeconds) return evaluationPeriods;
  // Points `every` s apart in a window of N * period seconds.
  return Math.min(evaluationPeriods, Math.ceil((evaluationPeriods * periodSeconds) / every));
}

/**
 * Judges one alarm against the publishers of its metrics. `publisherOf` returns undefined when
 * nothing in the program publishes that metric. For `missing` and `ignore` this is conservative:
 * it asks for M real breaching datapoints inside the N periods.
 */
export function judgeAlarm(alarm: AlarmShape, publisherOf: (m: AlarmMetricRead) => MetricPublisher | undefined): AlarmVerdict {
  const problems: string[] = [];
  const { name, evaluationPeriods: n, datapointsToAlarm: mOfN } = alarm;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(mOfN) || mOfN < 1 || mOfN > n) {
    return { everyPeriodBacked: false, canReachAlarm: false, problems: [`${name}: needs 1 <= datapointsToAlarm (${mOfN}) <= evaluationPeriods (${n})`] };
  }
  if (alarm.metrics.length === 0) return { everyPeriodBacked: false, canReachAlarm: false, problems: [`${name}: reads no metric`] };
  let fewestPeriodsWithData = n;
  for (const m of alarm.metrics) {
    const publisher = publisherOf(m);
    if (!publisher) {
      problems.push(`${name}: nothing publishes ${m.namespace}/${m.metricName}`);
      fewestPeriodsWithData = 0;
      continue;
    }
    const periodIssues = periodProblems(name, m, publisher, n);
    problems.push(...periodIssues);
    const withData = periodIssues.length > 0 ? 0 : periodsWithData(m.periodSeconds, n, publisher);
    if (periodIssues.length === 0 && withData < n) {
      problems.push(`${name}: ${m.namespace}/${m.metricName} at ${m.periodSeconds} s periods, but ${publisher.source} gives a datapoint only every ${Math.max(publisher.intervalSeconds, publisher.storageResolutionSeconds)} s`);
    }
    fewestPeriodsWithData = Math.min(fewestPeriodsWithData, withData);
  }
  const everyPeriodBacked = fewestPeriodsWithData === n && problems.length === 0;
  // breaching counts every missing datapoint against the threshold, so it can always fire.
  const canReachAlarm = alarm.treatMissingData === "breaching" || fewestPeriodsWithData >= mOfN;
  if (!canReachAlarm) {
    problems.push(`${name}: ${mOfN} of ${n} breaching datapoints needed, at most ${fewestPeriodsWithData} of the ${n} periods hold one (treatMissingData ${alarm.treatMissingData})`);
  }
  return { everyPeriodBacked, canReachAlarm, problems };
}
