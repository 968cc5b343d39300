// Alerting, Monitoring, Controller and Canary under Pulumi mocks (the alarm parser:
// tests/unit/lambda/alarmMessage.test.ts; the handler:
// tests/integration/controller/controllerHandler.test.ts; its bundle: tests/integration/lambda/controllerBundle.test.ts).
import * as pulumi from "@pulumi/pulumi";
import { canaryAlarms, prodAlarms } from "../../../core/alarms/definitions";
import { reservationFits } from "../../../awsRules/lambdaConcurrency";
import { Alerting } from "../../../components/alerting";
import { Canary } from "../../../components/canary";
import { Controller } from "../../../components/controller";
import { Monitoring } from "../../../components/monitoring";
import { DEFAULT_THRESHOLDS } from "../../../core/config/stackConfig";
import { parseConfigInvocation } from "../../../lambda/alarmMessage";
import { FUNCTION_TIMEOUT_SECONDS } from "../../../lambda/timing";
import { checkPolicies } from "../../../policy/check";
import { mockArn, runUnderMocks } from "../../../harness/pulumiMocks";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts";
const ASG_ARN = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/prod-asg";
const ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:aviary-prod-*";

describe("Alerting", () => {
  it("encrypts the topic with a rotating CMK usable by CloudWatch and subscribes every email address", async () => {
    const run = await runUnderMocks(() => new Alerting("alerts", { emails: ["a@example.com", "b@example.com"] }));
    const topic = run.one("aws:sns/topic:Topic");
    const key = run.one("aws:kms/key:Key");
    expect(topic.inputs.kmsMasterKeyId).toBe(mockArn("aws:kms/key:Key", key.name));
    expect(key.inputs.enableKeyRotation).toBe(true);
    const keyPolicy = JSON.parse(key.inputs.policy);
    expect(keyPolicy.Statement.some((s: { Principal: { Service?: string } }) => s.Principal.Service === "cloudwatch.amazonaws.com")).toBe(true);
    const topicPolicy = JSON.parse(run.one("aws:sns/topicPolicy:TopicPolicy").inputs.policy);
    expect(topicPolicy.Statement[0]).toMatchObject({ Principal: { Service: "cloudwatch.amazonaws.com" }, Action: "sns:Publish" });

    const subs = run.ofType("aws:sns/topicSubscription:TopicSubscription");
    expect(subs.map((s) => [s.inputs.protocol, s.inputs.endpoint]).sort()).toEqual([
      ["email", "a@example.com"],
      ["email", "b@example.com"],
    ]);
    for (const s of subs) expect(s.inputs.topic).toBe(mockArn("aws:sns/topic:Topic", topic.name));
    expect(checkPolicies(run.resources)).toEqual([]);
  });

  it("names its KMS alias (unique per account and region) after the stack, so two stacks do not collide", async () => {
    const alias = async (stack: string) =>
      (await runUnderMocks(() => new Alerting("alerts", { emails: [] }), { stack })).one("aws:kms/alias:Alias").inputs.name as string;
    const [prod, staging] = [await alias("prod"), await alias("staging")];
    expect(prod).toBe("alias/aviary-prod-alerts-topic");
    expect(staging).toBe("alias/aviary-staging-alerts-topic");
  });
});

describe("Monitoring", () => {
  const defs = [
    ...prodAlarms<pulumi.Input<string>>(DEFAULT_THRESHOLDS, { autoScalingGroupName: "prod-asg", deployment: "aviary-prod" }),
    ...canaryAlarms<pulumi.Input<string>>(DEFAULT_THRESHOLDS, { deployment: "aviary-prod" }),
  ];

  it("declares one alarm per definition with its fields and the topic on ALARM and OK", async () => {
    const run = await runUnderMocks(() =>
      new Monitoring("mon", { deployment: "aviary-prod", definitions: defs, topicArn: TOPIC, dashboard: true }));
    const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).toHaveLength(defs.length);
    for (const def of defs) {
      const a = alarms.find((x) => x.inputs.name === `aviary-prod-${def.key}`);
      expect(a).toBeDefined();
      expect(a!.inputs).toMatchObject({
        evaluationPeriods: def.evaluationPeriods,
        datapointsToAlarm: def.datapointsToAlarm,
        threshold: def.threshold,
        comparisonOperator: def.comparison,
        treatMissingData: def.treatMissingData,
        alarmDescription: def.description,
      });
      expect(a!.inputs.alarmActions).toContain(TOPIC);
      expect(a!.inputs.okActions).toContain(TOPIC);
      if (def.expression) {
        expect(a!.inputs.period).toBeUndefined();
        for (const q of a!.inputs.metricQueries.filter((q: { metric?: unknown }) => q.metric)) {
          expect(q.metric.period).toBe(def.periodSeconds);
        }
      } else {
        expect(a!.inputs).toMatchObject({
          period: def.periodSeconds,
          namespace: def.metrics[0].namespace,
          metricName: def.metrics[0].metricName,
          statistic: def.metrics[0].stat,
          dimensions: def.metrics[0].dimensions,
        });
      }
    }

    const rate = alarms.find((x) => x.inputs.name === "aviary-prod-canary-5xx-rate")!;
    expect(rate.inputs.metricName).toBeUndefined();
    const queries = rate.inputs.metricQueries as { id: string; expression?: string; returnData: boolean; metric?: { metricName: string } }[];
    expect(queries.filter((q) => q.returnData)).toEqual([
      expect.objectContaining({ expression: "IF(requests > 0, 100 * errors / requests, 0)", returnData: true }),
    ]);
    expect(queries.filter((q) => q.metric).map((q) => [q.id, q.metric!.metricName, q.returnData])).toEqual([
      ["requests", "Requests", false],
      ["errors", "Errors5xx", false],
    ]);

    const dash = run.one("aws:cloudwatch/dashboard:Dashboard");
    const body = JSON.parse(dash.inputs.dashboardBody);
    expect(body.widgets.filter((w: { type: string }) => w.type === "alarm")).toHaveLength(defs.length);
    expect(body.widgets.filter((w: { type: string }) => w.type === "metric").length).toBeGreaterThanOrEqual(3);
    const url = await new Promise<string | undefined>((r) => run.result.dashboardUrl!.apply(r));
    expect(url).toBe("https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=aviary-prod");
  });

  it("registers no dashboard unless asked", async () => {
    const run = await runUnderMocks(() => new Monitoring("mon", { deployment: "d", definitions: defs, topicArn: TOPIC }));
    expect(run.ofType("aws:cloudwatch/dashboard:Dashboard")).toHaveLength(0);
    expect(run.result.dashboardUrl).toBeUndefined();
  });
});

describe("Controller", () => {
  const program = (opts?: pulumi.ComponentResourceOptions) =>
    new Controller("controller", {
      deployment: "aviary-prod",
      vpcSubnetIds: ["subnet-a", "subnet-b"],
      securityGroupId: "sg-controller",
      topicArn: TOPIC,
      // Plain on purpose: the component itself must make it secret.
      redisUrl: "redis://:pw@10.0.10.5:6379",
      autoScalingGroupName: "prod-asg",
      autoScalingGroupArn: ASG_ARN,
      alarmArns: [ALARM_ARN],
      topicKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/topic",
      smsNumbers: ["+14155550123", "+14155550124"],
    }, opts);
  const smsTopic = (run: { ofType(t: string): { name: string; type: string }[] }) =>
    run.ofType("aws:sns/topic:Topic").find((t) => t.name === "controller-sms")!;

  it("runs one node24 function in the VPC with a DLQ and a secret REDIS_URL", async () => {
    const run = await runUnderMocks(program);
    const fn = run.one("aws:lambda/function:Function");
    const dlq = run.one("aws:sqs/queue:Queue");
    expect(fn.inputs).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler", timeout: FUNCTION_TIMEOUT_SECONDS, memorySize: 256 });
    expect(fn.inputs.deadLetterConfig.targetArn).toBe(mockArn("aws:sqs/queue:Queue", dlq.name));
    expect(dlq.inputs.sqsManagedSseEnabled).toBe(true);
    expect(fn.inputs.vpcConfig).toEqual({ subnetIds: ["subnet-a", "subnet-b"], securityGroupIds: ["sg-controller"] });
    expect(fn.inputs.environment.variables).toMatchObject({
      ASG_NAME: "prod-asg",
      TOPIC_ARN: TOPIC,
      SMS_TOPIC_ARN: mockArn("aws:sns/topic:Topic", "controller-sms"),
      DEPLOYMENT: "aviary-prod",
      // aviary:scaling defaults when the stack does not set it
      SCALING_STEP: "1",
      SCALE_OUT_COOLDOWN_SECONDS: "120",
      SCALE_IN_COOLDOWN_SECONDS: "300",
    });
    // Pulumi's deserializer lifts a nested secret to its top-level property, so the whole block is secret.
    expect(fn.secretInputs).toContain("environment");
    expect(fn.inputs.environment.variables.REDIS_URL).toBe("redis://:pw@10.0.10.5:6379");
    const logGroup = run.one("aws:cloudwatch/logGroup:LogGroup");
    expect(logGroup.inputs.kmsKeyId).toBeDefined();
    expect(logGroup.inputs.retentionInDays).toBeGreaterThan(0);
  });

  it("reserves no concurrency: a reservation must leave 100 unreserved, more than new accounts have", async () => {
    const run = await runUnderMocks(program);
    const reserved = run.one("aws:lambda/function:Function").inputs.reservedConcurrentExecutions;
    expect(reserved).toBeUndefined();
    // A new account's quota of 10 takes no reservation at all; the old reservation of 1 needed 101.
    expect(reservationFits(10, reserved ?? 0)).toBe(true);
    expect(reservationFits(10, 1)).toBe(false);
  });

  it("creates the function only once its VPC-access policy is attached", async () => {
    const seen: pulumi.ResourceTransformationArgs[] = [];
    await runUnderMocks(() => program({ transformations: [(a) => { seen.push(a); return undefined; }] }));
    const attachment = seen.find((a) => a.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")!;
    const fn = seen.find((a) => a.type === "aws:lambda/function:Function")!;
    const dependsOn = ([] as unknown[]).concat(fn.opts.dependsOn ?? []);
    expect(dependsOn).toContain(attachment.resource);
  });

  it("grants least privilege: no wildcard action, scaling only on the ASG", async () => {
    const run = await runUnderMocks(program);
    const attach = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attach.inputs.policyArn).toMatch(/AWSLambdaVPCAccessExecutionRole$/);
    const policy = JSON.parse(run.ofType("aws:iam/rolePolicy:RolePolicy").find((p) => p.name === "controller")!.inputs.policy);
    const statements = policy.Statement as { Action: string[]; Resource: string | string[] }[];
    for (const s of statements) for (const a of s.Action) expect(a).not.toContain("*");
    const scale = statements.find((s) => s.Action.includes("autoscaling:SetDesiredCapacity"))!;
    expect(scale.Resource).toBe(ASG_ARN);
    const starred = statements.filter((s) => s.Resource === "*" || (Array.isArray(s.Resource) && s.Resource.includes("*")));
    expect(starred.flatMap((s) => s.Action)).toEqual(["autoscaling:DescribeAutoScalingGroups"]);
    expect(statements.filter((s) => s.Action.includes("sns:Publish")).map((s) => s.Resource).sort()).toEqual([
      TOPIC,
      mockArn("aws:sns/topic:Topic", smsTopic(run).name),
    ].sort());
    expect(checkPolicies(run.resources)).toEqual([]);
  });

  it("texts SMS subscribers on their own topic, encrypted with a key whose policy lets the controller's role publish", async () => {
    const run = await runUnderMocks(program);
    const topic = run.ofType("aws:sns/topic:Topic").find((t) => t.name === "controller-sms")!;
    const key = run.ofType("aws:kms/key:Key").find((k) => k.name === "controller-sms")!;
    expect(topic.inputs.kmsMasterKeyId).toBe(mockArn(key.type, key.name));
    expect(key.inputs.enableKeyRotation).toBe(true);
    // Encrypted topics take symmetric keys only (the default spec).
    expect(key.inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT").toBe("SYMMETRIC_DEFAULT");
    const role = run.ofType("aws:iam/role:Role").find((r) => r.name === "controller")!;
    const publish = JSON.parse(key.inputs.policy).Statement.find((s: { Principal: { AWS?: string } }) => s.Principal.AWS === mockArn(role.type, role.name));
    // SNS encrypts with the publisher's permissions: GenerateDataKey and Decrypt, here only via SNS.
    expect(publish).toMatchObject({ Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Condition: { StringEquals: { "kms:ViaService": "sns.us-east-1.amazonaws.com" } } });
    const subs = run.ofType("aws:sns/topicSubscription:TopicSubscription").filter((s) => s.inputs.protocol === "sms");
    expect(subs.map((s) => [s.inputs.topic, s.inputs.endpoint])).toEqual([
      [mockArn(topic.type, topic.name), "+14155550123"],
      [mockArn(topic.type, topic.name), "+14155550124"],
    ]);
    const alias = run.one("aws:kms/alias:Alias");
    expect(alias.inputs.name).toBe("alias/aviary-prod-controller-sms");
  });

  it("subscribes the function to the topic and lets SNS invoke it", async () => {
    const run = await runUnderMocks(program);
    const fn = run.one("aws:lambda/function:Function");
    const sub = run.ofType("aws:sns/topicSubscription:TopicSubscription").find((s) => s.inputs.protocol === "lambda")!;
    expect(sub.inputs).toMatchObject({ topic: TOPIC, protocol: "lambda", endpoint: mockArn("aws:lambda/function:Function", fn.name) });
    // This deployment's alarms, by their body (alarm notifications have no attributes); what they
    // let through is tested against real notifications in tests/unit/awsRules/snsDelivery.test.ts.
    expect(sub.inputs.filterPolicyScope).toBe("MessageBody");
    expect(JSON.parse(sub.inputs.filterPolicy)).toEqual({ AlarmArn: [{ prefix: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:aviary-prod-" }] });
    const perm = run.one("aws:lambda/permission:Permission");
    expect(perm.inputs).toMatchObject({ principal: "sns.amazonaws.com", sourceArn: TOPIC, action: "lambda:InvokeFunction" });
  });
});

describe("Canary", () => {
  const program = (canaryWeight = 25) =>
    new Canary("canary", {
      deployment: "aviary-prod",
      appVersion: "1.5.0",
      count: 3,
      canaryWeight,
      instanceType: "t3.small",
      appPort: 3000,
      privateSubnetIds: ["subnet-a", "subnet-b"],
      appSecurityGroupId: "sg-app",
      topicArn: TOPIC,
      controllerFunctionName: "aviary-prod-controller",
      thresholds: DEFAULT_THRESHOLDS,
      redisUrlParameterName: "/aviary/redis-url",
      redisUrlParameterArn: "arn:aws:ssm:us-east-1:123456789012:parameter/aviary/redis-url",
      redisUrlKeyArn: "arn:aws:kms:us-east-1:123456789012:key/redis-secrets",
      release: { bucketName: "rel", bucketArn: "arn:aws:s3:::rel", objectKey: "app-1.5.0.js" },
    });

  it("runs hardened private instances round-robin over the subnets", async () => {
    const run = await runUnderMocks(() => program());
    const instances = run.ofType("aws:ec2/instance:Instance");
    expect(instances).toHaveLength(3);
    expect(instances.map((i) => i.inputs.subnetId)).toEqual(["subnet-a", "subnet-b", "subnet-a"]);
    for (const i of instances) {
      expect(i.inputs.metadataOptions.httpTokens).toBe("required");
      expect(i.inputs.rootBlockDevice.encrypted).toBe(true);
      expect(i.inputs.associatePublicIpAddress).toBe(false);
      expect(i.inputs.keyName).toBeUndefined();
      expect(i.inputs.vpcSecurityGroupIds).toEqual(["sg-app"]);
      expect(i.inputs.userData).toContain("aviary-app");
    }
    expect(checkPolicies(run.resources)).toEqual([]);
  });

  it("declares the canary alarms on the topic and hands the weight to the controller (CRUD)", async () => {
    const run = await runUnderMocks(() => program(40));
    const alarms = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.map((a) => a.inputs.name).sort()).toEqual(["aviary-prod-canary-5xx-rate", "aviary-prod-canary-judge-abort", "aviary-prod-canary-p99-latency"]);
    for (const a of alarms) expect(a.inputs.alarmActions).toEqual([TOPIC]);
    const inv = run.one("aws:lambda/invocation:Invocation");
    expect(inv.inputs.functionName).toBe("aviary-prod-controller");
    expect(inv.inputs.lifecycleScope).toBe("CRUD");
    expect(JSON.parse(inv.inputs.input)).toEqual({ action: "setCanaryWeight", weight: 40, appVersion: "1.5.0" });
    // No triggers: they are replace-on-change, and a replacement's delete would send weight 0.
    expect(inv.inputs.triggers).toBeUndefined();
    // The configuration invocation the canary sends is one the controller accepts.
    expect(parseConfigInvocation(JSON.parse(inv.inputs.input))).toMatchObject({ action: "setCanaryWeight", weight: 40 });
  });

  it("rejects a weight outside 0..100", async () => {
    const run = await runUnderMocks(() => program(120), { captureError: true });
    expect(String(run.error)).toMatch(/weight must be an integer from 0 to 100/);
  });
});
