// Controller Lambda: receives alarm notifications from the alerts topic (and configuration
// invocations from the canary stack) and acts on the fleet and Redis.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SCALING } from "../core/config/defaults";
import type { Scaling } from "../core/config/stackConfig";
import { buildControllerBundle } from "../lambda/bundle";
import { customerManagedKey } from "./customerManagedKey";
import { FUNCTION_TIMEOUT_SECONDS } from "../lambda/timing";
import { SmsTopic } from "./smsTopic";
import { InvalidInputError } from "../core/errors";
import type { Statement as PolicyStatement } from "../awsRules/kmsKeyAccess";
import { PromoteToken, promoteTokenReaderPath } from "./promoteToken";
import { ControllerHeartbeat } from "./controllerHeartbeat";
import { RolloutScheduler } from "./rolloutScheduler";

export interface ControllerArgs {
  deployment: pulumi.Input<string>;
  vpcSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  topicArn: pulumi.Input<string>;
  /** Carries the Redis password: kept secret in state and in the function's environment. */
  redisUrl: pulumi.Input<string>;
  autoScalingGroupName: pulumi.Input<string>;
  autoScalingGroupArn: pulumi.Input<string>;
  alarmArns: pulumi.Input<pulumi.Input<string>[]>;
  /** KMS key of the topic; needed to publish to an encrypted topic. */
  topicKmsKeyArn?: pulumi.Input<string>;
  /** Days of logs kept; 30 by default. */
  logRetentionDays?: number;
  /** Step and cooldowns (aviary:scaling); defaults when absent. */
  scaling?: Scaling;
  /** Numbers that get the controller's one-line SMS texts (aviary:alerts.sms). */
  smsNumbers?: string[];
  /** Where an autoPromote rollout dispatches the promote workflow (aviary:promote); absent = no dispatch. */
  promote?: ControllerPromote;
}

export interface ControllerPromote {
  /** `owner/name` of the repository holding .github/workflows/promote.yml. */
  repository: string;
  ref: string;
  token: pulumi.Input<string>;
}

interface Statement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/**
 * The subscription's filter, on the message body: CloudWatch alarm notifications carry no message
 * attributes, so an attribute policy with `"exists": false` (which needs at least one attribute)
 * would drop every one of them. A body policy on the alarm's ARN takes exactly this deployment's
 * alarms (its own and the canary stack's, all named `<deployment>-...`) in this account and region;
 * the controller's own notices are plain text, and a body policy never matches a non-JSON body.
 */
export function alarmFilter(alarmArnPrefix: string): { filterPolicy: string; filterPolicyScope: "MessageBody" } {
  return { filterPolicy: JSON.stringify({ AlarmArn: [{ prefix: alarmArnPrefix }] }), filterPolicyScope: "MessageBody" };
}

/** Throws if a policy statement uses a wildcard action. Pure, for tests and for the apply below. */
export function checkNoWildcardActions(statements: Statement[]): void {
  for (const s of statements) {
    for (const a of s.Action) if (a.includes("*")) throw new InvalidInputError(`Controller: wildcard action ${a} in ${s.Sid}`);
  }
}

/** A rule module's statement as the controller's policy writes it (Sid and list of actions required). */
function asControllerStatement(s: PolicyStatement): Statement {
  if (!s.Sid || s.Effect !== "Allow") throw new InvalidInputError(`Controller: statement ${s.Sid ?? "<no Sid>"} must be a named Allow`);
  return { Sid: s.Sid, Effect: "Allow", Action: ([] as string[]).concat(s.Action), Resource: s.Resource, ...(s.Condition ? { Condition: s.Condition } : {}) };
}

export class Controller extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  public readonly deadLetterQueueUrl: pulumi.Output<string>;
  public readonly deadLetterQueueArn: pulumi.Output<string>;
  public readonly smsTopicArn: pulumi.Output<string>;

  constructor(name: string, args: ControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:controller:Controller", name, {}, opts);
    const parent = { parent: this };

    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const region = aws.getRegionOutput({}, parent).region;
    // A fixed function name lets the log group exist (encrypted, with retention) before Lambda
    // would create a plain one on first invocation.
    const functionName = pulumi.interpolate`${args.deployment}-${name}`;
    const logGroupName = pulumi.interpolate`/aws/lambda/${functionName}`;
    const functionArn = pulumi.interpolate`arn:${partition}:lambda:${region}:${accountId}:function:${functionName}`;

    // One customer-managed key for the function's logs and environment (REDIS_URL carries a password).
    const key = customerManagedKey(name, {
      description: `Aviary controller logs and environment (${name})`,
      statements: ({ account, partition: part, region: reg }) => logGroupName.apply((group) => [
        {
          Sid: "CloudWatchLogsEncryptsThisGroup",
          Effect: "Allow",
          Principal: { Service: `logs.${reg}.amazonaws.com` },
          Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
          Resource: "*",
          Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:${part}:logs:${reg}:${account}:log-group:${group}` } },
        },
      ]),
    }, parent);

    const logGroup = new aws.cloudwatch.LogGroup(name, {
      name: logGroupName,
      retentionInDays: args.logRetentionDays ?? 30,
      kmsKeyId: key.arn,
    }, parent);

    // Failed asynchronous (SNS) invocations land here instead of vanishing.
    const dlq = new aws.sqs.Queue(`${name}-dlq`, {
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    }, parent);

    // Rollout wake-ups: one-time schedules in the controller's own group (named like the function).
    const scheduler = new RolloutScheduler(`${name}-rollout`, { groupName: functionName, functionArn }, parent);
    const promoteToken = args.promote ? new PromoteToken(`${name}-promote`, { token: args.promote.token }, parent) : undefined;

    const role = new aws.iam.Role(name, {
      // The token's key lets only roles under its reader path decrypt it (a path cannot change after creation).
      ...(promoteToken ? { path: promoteTokenReaderPath(`${name}-promote`) } : {}),
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }, parent);
    // Logs plus the ENI actions a function in a VPC needs: the function must not be created
    // before they are attached (Lambda creates its network interfaces with them at create time).
    const vpcAccess = new aws.iam.RolePolicyAttachment(`${name}-vpc-access`, {
      role: role.name,
      policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
    }, parent);

    // Its key's policy lets this role publish; SMS subscribers get nothing but the controller's lines.
    const sms = new SmsTopic(`${name}-sms`, { numbers: args.smsNumbers ?? [], publisherRoleArn: role.arn }, parent);

    // Rollouts: schedule the step's wake-up; with aviary:promote, read the token.
    const rollout = pulumi
      .all([scheduler.controllerStatements, promoteToken ? promoteToken.readerStatements() : pulumi.output([] as PolicyStatement[])])
      .apply(([scheduling, promoteReads]) => [...scheduling, ...promoteReads]);
    const policy = pulumi
      .all([args.autoScalingGroupArn, args.topicArn, pulumi.output(args.alarmArns), dlq.arn, key.arn, pulumi.output(args.topicKmsKeyArn), sms.topicArn, rollout])
      .apply(([asgArn, topicArn, alarmArns, dlqArn, keyArn, topicKeyArn, smsTopicArn, rolloutStatements]) => {
        const statements: Statement[] = [
          { Sid: "ScaleTheFleet", Effect: "Allow", Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"], Resource: asgArn },
          // Describe* calls have no resource-level permissions in Auto Scaling: "*" is the only valid resource.
          { Sid: "ReadTheFleet", Effect: "Allow", Action: ["autoscaling:DescribeAutoScalingGroups"], Resource: "*" },
          { Sid: "Notify", Effect: "Allow", Action: ["sns:Publish"], Resource: topicArn },
          { Sid: "TextSmsSubscribers", Effect: "Allow", Action: ["sns:Publish"], Resource: smsTopicArn },
          { Sid: "ReArmAlarms", Effect: "Allow", Action: ["cloudwatch:SetAlarmState", "cloudwatch:DescribeAlarms"], Resource: alarmArns },
          { Sid: "DeadLetters", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: dlqArn },
          { Sid: "OwnEnvironment", Effect: "Allow", Action: ["kms:Decrypt"], Resource: keyArn },
          ...(topicKeyArn
            ? [{ Sid: "EncryptedTopic", Effect: "Allow" as const, Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: topicKeyArn }]
            : []),
          ...rolloutStatements.map(asControllerStatement),
        ];
        checkNoWildcardActions(statements);
        return JSON.stringify({ Version: "2012-10-17", Statement: statements });
      });
    const rolePolicy = new aws.iam.RolePolicy(name, { role: role.id, policy }, parent);

    const scaling = args.scaling ?? DEFAULT_SCALING;
    const bundle = buildControllerBundle();
    const fn = new aws.lambda.Function(name, {
      name: functionName,
      runtime: "nodejs24.x",
      handler: "index.handler",
      code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(bundle.code) }),
      role: role.arn,
      timeout: FUNCTION_TIMEOUT_SECONDS,
      memorySize: 256,
      // No reserved concurrency: it needs 100 unreserved executions left in the account
      // (awsRules/lambdaConcurrency.ts). Decisions are serialised by the Redis lock instead.
      vpcConfig: { subnetIds: args.vpcSubnetIds, securityGroupIds: [args.securityGroupId] },
      kmsKeyArn: key.arn,
      environment: {
        variables: {
          REDIS_URL: pulumi.secret(args.redisUrl),
          ASG_NAME: args.autoScalingGroupName,
          TOPIC_ARN: args.topicArn,
          SMS_TOPIC_ARN: sms.topicArn,
          DEPLOYMENT: args.deployment,
          SCALING_STEP: String(scaling.step),
          SCALE_OUT_COOLDOWN_SECONDS: String(scaling.scaleOutCooldownSeconds),
          SCALE_IN_COOLDOWN_SECONDS: String(scaling.scaleInCooldownSeconds),
          SCHEDULE_GROUP: scheduler.groupName,
          SCHEDULER_ROLE_ARN: scheduler.roleArn,
          FUNCTION_ARN: functionArn,
          ...(args.promote && promoteToken
            ? { PROMOTE_REPOSITORY: args.promote.repository, PROMOTE_REF: args.promote.ref, PROMOTE_TOKEN_PARAMETER: promoteToken.parameterName }
            : {}),
        },
      },
      deadLetterConfig: { targetArn: dlq.arn },
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    }, { parent: this, dependsOn: [logGroup, rolePolicy, vpcAccess] });

    // Ticks the controller every minute, once the function and the role's invoke policy exist.
    new ControllerHeartbeat(`${name}-heartbeat`, { groupName: scheduler.groupName, functionArn, roleArn: scheduler.roleArn }, { parent: this, dependsOn: [fn, scheduler] });

    new aws.lambda.Permission(`${name}-sns`, {
      action: "lambda:InvokeFunction",
      function: fn.name,
      principal: "sns.amazonaws.com",
      sourceArn: args.topicArn,
    }, parent);
    const filter = pulumi
      .all([partition, region, accountId, args.deployment])
      .apply(([part, reg, account, deployment]) => alarmFilter(`arn:${part}:cloudwatch:${reg}:${account}:alarm:${deployment}-`));
    new aws.sns.TopicSubscription(`${name}-sns`, {
      topic: args.topicArn,
      protocol: "lambda",
      endpoint: fn.arn,
      filterPolicy: filter.filterPolicy,
      filterPolicyScope: filter.filterPolicyScope,
    }, parent);

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.deadLetterQueueUrl = dlq.url;
    this.deadLetterQueueArn = dlq.arn;
    this.smsTopicArn = sms.topicArn;
    this.registerOutputs({
      smsTopicArn: this.smsTopicArn,
      functionName: this.functionName,
      functionArn: this.functionArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      deadLetterQueueArn: this.deadLetterQueueArn,
    });
  }
}
