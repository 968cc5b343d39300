// CloudWatch alarms built from the alarm definitions (data shared with local mode), wired to the
// alerts topic, plus an optional dashboard.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmDefinition, MetricStat } from "../core/alarms/definitions";
import { alarmName } from "../core/alarms/catalogue";
import { FLEET_METRICS, PROXY_METRICS, PROXY_NAMESPACE, proxyDimensions } from "../core/metrics/naming";
import { InvalidInputError } from "../core/errors";

export interface MonitoringArgs {
  deployment: pulumi.Input<string>;
  definitions: AlarmDefinition<pulumi.Input<string>>[];
  topicArn: pulumi.Input<string>;
  dashboard?: boolean;
}

/** The MetricAlarm inputs a definition maps to (everything but name and actions). Pure, for tests. */
export function metricAlarmInputs(def: AlarmDefinition<pulumi.Input<string>>): Partial<aws.cloudwatch.MetricAlarmArgs> {
  const common = {
    alarmDescription: def.description,
    evaluationPeriods: def.evaluationPeriods,
    datapointsToAlarm: def.datapointsToAlarm,
    threshold: def.threshold,
    comparisonOperator: def.comparison,
    treatMissingData: def.treatMissingData,
  };
  if (def.expression === undefined) {
    if (def.metrics.length !== 1) {
      throw new InvalidInputError(`Monitoring: alarm ${def.key} needs exactly one metric or an expression (got ${def.metrics.length} metrics)`);
    }
    const [m] = def.metrics;
    return { ...common, namespace: m.namespace, metricName: m.metricName, statistic: m.stat, dimensions: m.dimensions, period: def.periodSeconds };
  }
  // Metric math: the inputs feed the expression; only the expression's value is compared.
  return {
    ...common,
    metricQueries: [
      ...def.metrics.map((m) => ({
        id: m.id,
        returnData: false,
        metric: { namespace: m.namespace, metricName: m.metricName, stat: m.stat, period: def.periodSeconds, dimensions: m.dimensions },
      })),
      { id: "e1", expression: def.expression, label: def.key, returnData: true },
    ],
  };
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly alarmNames: pulumi.Output<string>[];
  public readonly alarmArns: pulumi.Output<string>[];
  public readonly dashboardName?: pulumi.Output<string>;
  public readonly dashboardUrl?: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:monitoring:Monitoring", name, {}, opts);
    const parent = { parent: this };
    const deployment = pulumi.output(args.deployment);

    const alarms = args.definitions.map((def) =>
      new aws.cloudwatch.MetricAlarm(`${name}-${def.key}`, {
        // The controller maps the name back to the definition (alarmKeyOf), so it must follow alarmName().
        name: deployment.apply((d) => alarmName(d, def.key)),
        ...metricAlarmInputs(def),
        comparisonOperator: def.comparison,
        evaluationPeriods: def.evaluationPeriods,
        // OK notifications let the controller and people see recoveries, not just breaches.
        alarmActions: [args.topicArn],
        okActions: [args.topicArn],
      }, parent));

    this.alarmNames = alarms.map((a) => a.name);
    this.alarmArns = alarms.map((a) => a.arn);

    if (args.dashboard) {
      const region = aws.getRegionOutput({}, parent).region;
      const dashboardName = deployment.apply((d) => d.replace(/[^A-Za-z0-9_-]/g, "-"));
      const metricLine = (m: MetricStat<pulumi.Input<string>>, label: string) =>
        pulumi.output(m.dimensions).apply((dims) => [
          m.namespace, m.metricName,
          ...Object.entries(dims).flatMap(([k, v]) => [k, v]),
          { stat: m.stat, label },
        ]);
      const cpu = args.definitions.flatMap((d) => d.metrics).find((m) => m.metricName === FLEET_METRICS.cpu.metricName);
      const canaryMetric = (metricName: string, stat: MetricStat<string>["stat"]): MetricStat<pulumi.Input<string>> => ({
        id: metricName, namespace: PROXY_NAMESPACE, metricName, stat, dimensions: proxyDimensions(args.deployment, "canary"),
      });
      const graphs: { title: string; metrics: pulumi.Output<unknown[]>[] }[] = [
        ...(cpu ? [{ title: "Production fleet CPU %", metrics: [metricLine(cpu, "CPU avg")] }] : []),
        {
          title: "Canary requests and 5xx",
          metrics: [
            metricLine(canaryMetric(PROXY_METRICS.requests, "Sum"), "requests"),
            metricLine(canaryMetric(PROXY_METRICS.errors5xx, "Sum"), "5xx"),
          ],
        },
        { title: "Canary p99 latency (ms)", metrics: [metricLine(canaryMetric(PROXY_METRICS.latencyP99, "Maximum"), "p99")] },
      ];
      const body = pulumi
        .all([region, pulumi.all(this.alarmArns), pulumi.all(graphs.map((g) => pulumi.all(g.metrics)))])
        .apply(([reg, arns, graphMetrics]) => {
          const alarmWidgets = arns.map((arn, i) => ({
            type: "alarm", x: (i % 3) * 8, y: Math.floor(i / 3) * 4, width: 8, height: 4,
            properties: { title: args.definitions[i].key, alarms: [arn] },
          }));
          const top = Math.ceil(arns.length / 3) * 4;
          const graphWidgets = graphs.map((g, i) => ({
            type: "metric", x: (i % 2) * 12, y: top + Math.floor(i / 2) * 6, width: 12, height: 6,
            properties: { title: g.title, region: reg, view: "timeSeries", stacked: false, period: 60, metrics: graphMetrics[i] },
          }));
          return JSON.stringify({ widgets: [...alarmWidgets, ...graphWidgets] });
        });
      const dashboard = new aws.cloudwatch.Dashboard(name, { dashboardName, dashboardBody: body }, parent);
      this.dashboardName = dashboard.dashboardName;
      this.dashboardUrl = pulumi.interpolate`https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${dashboard.dashboardName}`;
    }

    this.registerOutputs({
      alarmNames: this.alarmNames,
      alarmArns: this.alarmArns,
      dashboardName: this.dashboardName,
      dashboardUrl: this.dashboardUrl,
    });
  }
}
