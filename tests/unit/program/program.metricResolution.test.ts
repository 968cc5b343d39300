// Every CloudWatch alarm the real program registers (both stacks, both scale-out layouts) is
// judged against the publishers that same program configured: EC2 monitoring from the recorded
// launch templates and instances, the CloudWatch agent's interval from the rendered boot script,
// the proxy agent's interval and StorageResolution from its code, group metrics from the ASG.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import type { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { publishMetrics } from "../../../adapters/metricsSink/aws";
import { METRICS_INTERVAL_MS } from "../../../agent/metricsLoop";
import type { TreatMissingData } from "../../../core/alarms/definitions";
import {
  cloudWatchAgentPublisher, ec2MonitoringPublisher, groupMetricsPublisher, judgeAlarm, putMetricDataPublisher,
  type AlarmMetricRead, type AlarmShape, type MetricPublisher,
} from "../../../awsRules/metricResolution";
import { readStackFile } from "../../../config/stackFile";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";
import { runUnderMocks, type MockRun, type Registered } from "../../../harness/pulumiMocks";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const GROUP = "aws:autoscaling/group:Group";
const TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const INSTANCE = "aws:ec2/instance:Instance";

interface AlarmRead extends AlarmMetricRead { dimensions: Record<string, string> }

/** The metrics a recorded MetricAlarm reads (plain or metric math), with their periods and dimensions. */
function readsOf(alarm: Registered): AlarmRead[] {
  const i = alarm.inputs;
  if (i.metricQueries) {
    return (i.metricQueries as { metric?: { namespace: string; metricName: string; period: number; dimensions?: Record<string, string> } }[])
      .flatMap((q) => (q.metric ? [{ namespace: q.metric.namespace, metricName: q.metric.metricName, periodSeconds: q.metric.period, dimensions: q.metric.dimensions ?? {} }] : []));
  }
  return [{ namespace: i.namespace, metricName: i.metricName, periodSeconds: i.period, dimensions: i.dimensions ?? {} }];
}

function shapeOf(alarm: Registered): AlarmShape {
  const i = alarm.inputs;
  return {
    name: String(i.name),
    metrics: readsOf(alarm),
    evaluationPeriods: i.evaluationPeriods,
    // CloudWatch's defaults: M = N, missing data "missing".
    datapointsToAlarm: i.datapointsToAlarm ?? i.evaluationPeriods,
    treatMissingData: (i.treatMissingData ?? "missing") as TreatMissingData,
  };
}

const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

/** The CloudWatch agent interval for `metricName` in the config a boot script writes. */
function cwAgentIntervalIn(script: string, metricName: string): number | undefined {
  const config = /<<'CWAGENT'\n([\s\S]*?)\nCWAGENT\n/.exec(script)?.[1];
  if (!config) return undefined;
  const parsed = JSON.parse(config) as {
    agent?: { metrics_collection_interval?: number };
    metrics?: { metrics_collected?: Record<string, { measurement?: (string | { name: string })[]; metrics_collection_interval?: number }> };
  };
  const section = Object.entries(parsed.metrics?.metrics_collected ?? {}).find(([plugin, s]) =>
    (s.measurement ?? []).some((m) => [m, `${plugin}_${m}`].includes(metricName) || (typeof m === "object" && m.name === metricName)));
  if (!section) return undefined;
  return section[1].metrics_collection_interval ?? parsed.agent?.metrics_collection_interval ?? 60;
}

/** What the proxy agent's publisher really sends: one PutMetricData call captured from the code. */
async function proxyAgentStorageResolution(): Promise<number> {
  const sent: PutMetricDataCommand[] = [];
  const client = { send: async (c: PutMetricDataCommand) => { sent.push(c); return {}; } } as unknown as CloudWatchClient;
  await publishMetrics(client, "aviary-prod", [{ role: "canary", at: new Date(0), requests: 1, errors5xx: 0, latencyP99Ms: 5 } as never]);
  const resolutions = new Set(sent.flatMap((c) => c.input.MetricData ?? []).map((d) => d.StorageResolution ?? 60));
  if (resolutions.size !== 1) throw new Error(`proxy agent publishes mixed StorageResolution ${[...resolutions].join(", ")}`);
  return [...resolutions][0];
}

/** Maps a metric an alarm reads to whatever in `run` publishes it (the proxy is in the prod run). */
function publishersIn(run: MockRun<unknown>, prodRun: MockRun<unknown>, proxyResolution: number): (m: AlarmMetricRead) => MetricPublisher | undefined {
  const groupNamed = (name: string) => run.ofType(GROUP).find((g) => (g.inputs.name ?? g.name) === name);
  const templateOf = (group: Registered) => run.ofType(TEMPLATE).find((t) => t.id === group.inputs.launchTemplate?.id);
  // The agent publishes only with AVIARY_DEPLOYMENT set (agent/main.ts), under that Deployment dimension.
  const proxyScripts = [
    ...prodRun.ofType(INSTANCE).filter((i) => i.inputs.tags?.["aviary:role"] === "proxy").map((i) => String(i.inputs.userData)),
    ...prodRun.ofType(TEMPLATE).filter((t) => t.inputs.tags?.["aviary:role"] === "proxy").map((t) => decode(t.inputs.userData)),
  ];
  return (read) => {
    const m = read as AlarmRead;
    if (m.namespace === "AWS/EC2") {
      const group = m.dimensions.AutoScalingGroupName ? groupNamed(m.dimensions.AutoScalingGroupName) : undefined;
      const template = group && templateOf(group);
      if (template) return ec2MonitoringPublisher(`launch template ${template.name}`, template.inputs.monitoring?.enabled === true);
      const instance = run.ofType(INSTANCE).find((i) => i.id === m.dimensions.InstanceId);
      return instance && ec2MonitoringPublisher(`instance ${instance.name}`, instance.inputs.monitoring === true);
    }
    if (m.namespace === "CWAgent") {
      const group = m.dimensions.AutoScalingGroupName ? groupNamed(m.dimensions.AutoScalingGroupName) : undefined;
      const template = group && templateOf(group);
      const interval = template && cwAgentIntervalIn(decode(template.inputs.userData), m.metricName);
      return template && interval !== undefined ? cloudWatchAgentPublisher(`launch template ${template.name}`, interval) : undefined;
    }
    if (m.namespace === "Aviary/Proxy") {
      const published = proxyScripts.some((s) => s.includes(`\nEnvironment=AVIARY_DEPLOYMENT=${m.dimensions.Deployment}\n`));
      return published ? putMetricDataPublisher("proxy agent", METRICS_INTERVAL_MS / 1000, proxyResolution) : undefined;
    }
    if (m.namespace === "AWS/AutoScaling") {
      const group = groupNamed(m.dimensions.AutoScalingGroupName);
      return group && (group.inputs.enabledMetrics ?? []).includes(m.metricName) ? groupMetricsPublisher(group.name, group.inputs.metricsGranularity ?? "1Minute") : undefined;
    }
    return undefined;
  };
}

async function runStack(stack: "prod" | "canary", extra: Record<string, string> = {}): Promise<MockRun<unknown>> {
  const config = { ...readStackFile(join(REPO_ROOT, `Pulumi.${stack}.yaml`)), ...extra };
  let run: MockRun<unknown> | undefined;
  await jest.isolateModulesAsync(async () => {
    run = await runUnderMocks(() => require("../../../index"), { stack, config, stackReferenceOutputs: PROD_STACK_OUTPUTS });
  });
  if (!run) throw new Error(`${stack} did not run`);
  return run;
}

const layouts: [string, "prod" | "canary", Record<string, string>][] = [
  ["prod, default layout", "prod", {}],
  ["prod, proxies behind a load balancer", "prod", { "aviary:proxy": JSON.stringify({ count: 3 }) }],
  ["prod, ElastiCache", "prod", { "aviary:redis": JSON.stringify({ mode: "elasticache" }) }],
  ["canary", "canary", {}],
];

const runs = new Map<string, MockRun<unknown>>();
let proxyResolution: number;
beforeAll(async () => {
  for (const [label, stack, extra] of layouts) runs.set(label, await runStack(stack, extra));
  proxyResolution = await proxyAgentStorageResolution();
});
const runOf = (label: string) => runs.get(label) as MockRun<unknown>;

test.each(layouts)("%s: every alarm has a datapoint in every period and can reach ALARM", (label) => {
  const alarms = runOf(label).ofType(ALARM);
  expect(alarms.length).toBeGreaterThanOrEqual(2);
  const publisherOf = publishersIn(runOf(label), runOf("prod, default layout"), proxyResolution);
  expect(alarms.flatMap((a) => judgeAlarm(shapeOf(a), publisherOf).problems)).toEqual([]);
});

test("the fleet's and proxies' launch templates and the proxy, Redis and canary instances have detailed monitoring", () => {
  const instances = [...runOf("prod, default layout").ofType(INSTANCE), ...runOf("canary").ofType(INSTANCE)];
  expect(instances.map((i) => i.inputs.tags?.["aviary:role"]).sort()).toEqual(["canary", "proxy", "redis"]);
  for (const i of instances) expect([i.name, i.inputs.monitoring]).toEqual([i.name, true]);
  const templates = runOf("prod, proxies behind a load balancer").ofType(TEMPLATE);
  expect(templates.map((t) => t.name).sort()).toEqual(["prod", "proxy"]);
  for (const t of templates) expect([t.name, t.inputs.monitoring]).toEqual([t.name, { enabled: true }]);
});
