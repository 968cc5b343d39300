// Every alarm Aviary raises, once: what the controller does when it enters ALARM, which stack's
// deployment it watches and which aviary:thresholds field it compares against. What CloudWatch
// reads and how it judges (metrics, periods, comparison) is built from these in ./definitions.ts;
// the controller looks actions up here, so a key and its action have this one home.
import type { Role } from "../routing/role";

/** What the controller does when the alarm enters ALARM. */
export type AlarmAction = "scaleOut" | "scaleIn" | "notify" | "rollbackCanary";

export const ALARM_CATALOGUE = {
  "prod-cpu-high": {
    role: "prod",
    action: "scaleOut",
    threshold: "scaleOutCpu",
    describe: (t) => `Production fleet average CPU >= ${t}%: the controller adds instances.`,
  },
  "prod-cpu-low": {
    role: "prod",
    action: "scaleIn",
    threshold: "scaleInCpu",
    describe: (t) => `Production fleet average CPU <= ${t}% for 5 minutes: the controller removes the newest instance.`,
  },
  "prod-memory-high": {
    role: "prod",
    action: "notify",
    threshold: "memory",
    describe: (t) => `A production instance uses >= ${t}% of its memory: a person should look.`,
  },
  "canary-5xx-rate": {
    role: "canary",
    action: "rollbackCanary",
    threshold: "canaryErrorRate",
    describe: (t) => `Canary 5xx responses >= ${t}% of its requests: the controller turns the canary off.`,
  },
  "canary-p99-latency": {
    role: "canary",
    action: "rollbackCanary",
    threshold: "canaryP99Ms",
    describe: (t) => `Canary p99 latency >= ${t} ms: the controller turns the canary off.`,
  },
  // The proxy's agent has already turned the canary off (its judge failed the canary against
  // production); the alarm tells subscribers, and the controller's rollback finds it off.
  "canary-judge-abort": {
    role: "canary",
    action: "rollbackCanary",
    threshold: { fixed: 1 },
    describe: (t) => `A proxy's canary judge aborted the rollout (>= ${t} abort in 10 s): the canary is off; the controller notifies.`,
  },
} as const satisfies Record<string, { role: Role; action: AlarmAction; threshold: string | { fixed: number }; describe(threshold: number): string }>;

export type AlarmKey = keyof typeof ALARM_CATALOGUE;
export type CatalogueEntry = (typeof ALARM_CATALOGUE)[AlarmKey];

export const ALARM_KEYS = Object.keys(ALARM_CATALOGUE) as readonly AlarmKey[];

/** The thresholds the alarms compare against, by aviary:thresholds field: the stack config's satisfy it. */
export type AlarmThresholds = Readonly<Record<Extract<CatalogueEntry["threshold"], string>, number>>;

/** The number an alarm compares against: its aviary:thresholds field's value, or the fixed one it has no field for. */
export function thresholdOf(entry: CatalogueEntry, t: AlarmThresholds): number {
  return typeof entry.threshold === "string" ? t[entry.threshold] : entry.threshold.fixed;
}

/** CloudWatch alarm names are `<deployment>-<key>`; the controller maps a name back to its entry. */
export function alarmName(deployment: string, key: AlarmKey): string {
  return `${deployment}-${key}`;
}

export function alarmKeyOf(name: string): AlarmKey | undefined {
  return ALARM_KEYS.find((key) => name.endsWith(`-${key}`));
}
