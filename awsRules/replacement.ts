// What `pulumi up` does to a resource when its inputs change: update in place, or replace.
//
// Written from the AWS provider's schemas (hashicorp/terraform-provider-aws, which pulumi-aws
// bridges; Pulumi names are the camelCase of the Terraform ones, renames noted): an input marked
// ForceNew (or forced by the resource's CustomizeDiff) replaces the resource, any other change is
// an update. Files read are named per type in `source`. The engine's own rules, from Pulumi's
// resource-option docs (pulumi.com/docs/iac/concepts/options/): a replacement creates the new
// resource before deleting the old one unless `deleteBeforeReplace`; `replaceOnChanges` adds
// replace-on-change paths; `ignoreChanges` keeps the old value of a path (also for a replacement);
// a delete-before-replace plans its dependents with the replaced resource's outputs unknown, so a
// dependent whose replace-on-change input comes from it is replaced too.
// pulumi-aws v7 adds a per-resource `region` input; changing it replaces every resource.

export interface ReplacementRule {
  /** Inputs whose change replaces the resource; "a.b" names a field of a nested block (any element). */
  forceNew: readonly string[];
  /** Outputs a new physical resource gets anew besides id and arn (read by dependents). */
  renewed?: readonly string[];
  /** The provider file the rule was written from. */
  source: string;
}

const TF = "hashicorp/terraform-provider-aws internal/service/";

export const REPLACEMENT_RULES: Readonly<Record<string, ReplacementRule>> = {
  "aws:autoscaling/group:Group": { forceNew: ["name", "namePrefix"], renewed: ["name"], source: `${TF}autoscaling/group.go` },
  "aws:cloudwatch/dashboard:Dashboard": { forceNew: ["dashboardName"], source: `${TF}cloudwatch/dashboard.go` },
  "aws:cloudwatch/logGroup:LogGroup": { forceNew: ["name", "namePrefix", "logGroupClass"], source: `${TF}logs/group.go` },
  // alarm_name (Pulumi: name) is ForceNew; thresholds, periods and actions are updated in place.
  "aws:cloudwatch/metricAlarm:MetricAlarm": { forceNew: ["name"], source: `${TF}cloudwatch/metric_alarm.go` },
  "aws:ebs/volume:Volume": { forceNew: ["availabilityZone", "encrypted", "kmsKeyId", "multiAttachEnabled", "outpostArn", "snapshotId"], source: `${TF}ec2/ebs_volume.go` },
  // instance / network_interface are updated in place: the address is re-associated.
  "aws:ec2/eip:Eip": { forceNew: ["address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool"], source: `${TF}ec2/ec2_eip.go` },
  // instance_type, iam_instance_profile, metadata_options, monitoring, vpc_security_group_ids and
  // (without user_data_replace_on_change) user_data are updated in place (a stop/start for some).
  "aws:ec2/instance:Instance": {
    forceNew: [
      "ami", "associatePublicIpAddress", "availabilityZone", "cpuOptions.amdSevSnp", "cpuOptions.coreCount", "cpuOptions.threadsPerCore",
      "ebsBlockDevices", "ebsOptimized", "enclaveOptions.enabled", "ephemeralBlockDevices", "hibernation", "hostId", "ipv6AddressCount",
      "ipv6Addresses", "keyName", "launchTemplate", "networkInterfaces", "primaryNetworkInterface", "placementGroup", "placementPartitionNumber",
      "privateDnsNameOptions", "privateIp", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId", "securityGroups", "subnetId", "tenancy",
    ],
    renewed: ["privateIp", "publicIp", "publicDns", "privateDns", "primaryNetworkInterfaceId"],
    source: `${TF}ec2/ec2_instance.go`,
  },
  "aws:ec2/internetGateway:InternetGateway": { forceNew: [], source: `${TF}ec2/vpc_internet_gateway.go` },
  // Every other change is a new template version (update_default_version moves the default).
  "aws:ec2/launchTemplate:LaunchTemplate": { forceNew: ["name", "namePrefix"], renewed: ["latestVersion"], source: `${TF}ec2/ec2_launch_template.go` },
  "aws:ec2/natGateway:NatGateway": { forceNew: ["allocationId", "connectivityType", "privateIp", "subnetId"], source: `${TF}ec2/vpc_nat_gateway.go` },
  "aws:ec2/networkInterface:NetworkInterface": { forceNew: ["subnetId", "interfaceType"], renewed: ["privateIp", "macAddress"], source: `${TF}ec2/vpc_network_interface.go` },
  "aws:ec2/routeTable:RouteTable": { forceNew: ["vpcId"], source: `${TF}ec2/vpc_route_table.go` },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": { forceNew: ["subnetId", "gatewayId"], source: `${TF}ec2/vpc_route_table_association.go` },
  "aws:ec2/securityGroup:SecurityGroup": { forceNew: ["name", "namePrefix", "description", "vpcId"], source: `${TF}ec2/vpc_security_group.go` },
  "aws:ec2/subnet:Subnet": { forceNew: ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "ipv6Native", "outpostArn"], source: `${TF}ec2/vpc_subnet.go` },
  "aws:ec2/volumeAttachment:VolumeAttachment": { forceNew: ["deviceName", "instanceId", "volumeId"], source: `${TF}ec2/ebs_volume_attachment.go` },
  "aws:ec2/vpc:Vpc": { forceNew: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"], source: `${TF}ec2/vpc_.go` },
  "aws:ec2/vpcEndpoint:VpcEndpoint": { forceNew: ["vpcId", "serviceName", "vpcEndpointType"], source: `${TF}ec2/vpc_endpoint.go` },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    forceNew: ["replicationGroupId", "subnetGroupName", "atRestEncryptionEnabled", "kmsKeyId", "port", "snapshotArns", "snapshotName", "dataTieringEnabled", "networkType"],
    source: `${TF}elasticache/replication_group.go`,
  },
  "aws:elasticache/subnetGroup:SubnetGroup": { forceNew: ["name"], source: `${TF}elasticache/subnet_group.go` },
  "aws:iam/instanceProfile:InstanceProfile": { forceNew: ["name", "namePrefix", "path"], renewed: ["name"], source: `${TF}iam/instance_profile.go` },
  "aws:iam/role:Role": { forceNew: ["name", "namePrefix", "path"], renewed: ["name"], source: `${TF}iam/role.go` },
  "aws:iam/rolePolicy:RolePolicy": { forceNew: ["name", "namePrefix", "role"], source: `${TF}iam/role_policy.go` },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { forceNew: ["role", "policyArn"], source: `${TF}iam/role_policy_attachment.go` },
  "aws:kms/alias:Alias": { forceNew: ["name", "namePrefix"], source: `${TF}kms/alias.go` },
  "aws:kms/key:Key": { forceNew: ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"], source: `${TF}kms/key.go` },
  // Nothing is ForceNew (key_id included: an update re-attaches the policy). Its delete puts the
  // account's default key policy back, so a replacement would end on the default policy.
  "aws:kms/keyPolicy:KeyPolicy": { forceNew: [], source: `${TF}kms/key_policy.go` },
  "aws:lambda/function:Function": { forceNew: ["name", "packageType"], source: `${TF}lambda/function.go` },
  // function_name, qualifier and triggers are ForceNew; input is ForceNew only with lifecycle_scope
  // CREATE_ONLY (the default), see invocationInputForcesReplacement.
  "aws:lambda/invocation:Invocation": { forceNew: ["functionName", "qualifier", "triggers"], source: `${TF}lambda/invocation.go` },
  // Every argument of a permission statement is ForceNew (function_name: Pulumi `function`).
  "aws:lambda/permission:Permission": {
    forceNew: ["action", "eventSourceToken", "function", "functionUrlAuthType", "principal", "principalOrgId", "qualifier", "sourceAccount", "sourceArn", "statementId", "statementIdPrefix"],
    source: `${TF}lambda/permission.go`,
  },
  "aws:lb/listener:Listener": { forceNew: ["loadBalancerArn"], source: `${TF}elbv2/listener.go` },
  "aws:lb/loadBalancer:LoadBalancer": { forceNew: ["name", "namePrefix", "internal", "loadBalancerType"], renewed: ["dnsName"], source: `${TF}elbv2/load_balancer.go` },
  "aws:lb/targetGroup:TargetGroup": { forceNew: ["name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType", "ipAddressType"], source: `${TF}elbv2/target_group.go` },
  "aws:s3/bucket:Bucket": { forceNew: ["bucket", "bucketPrefix", "objectLockEnabled"], renewed: ["bucket"], source: `${TF}s3/bucket.go` },
  // aws_s3_object: a new key is a new object (and the old key is deleted after the new one exists).
  "aws:s3/bucketObjectv2:BucketObjectv2": { forceNew: ["bucket", "key"], source: `${TF}s3/object.go` },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": { forceNew: ["bucket"], source: `${TF}s3/bucket_ownership_controls.go` },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": { forceNew: ["bucket"], source: `${TF}s3/bucket_public_access_block.go` },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    forceNew: ["bucket", "expectedBucketOwner"],
    source: `${TF}s3/bucket_server_side_encryption_configuration.go`,
  },
  // Tags are the only update; deleting a group deletes the schedules in it.
  // target, schedule_expression and flexible_time_window are an UpdateSchedule in place.
  "aws:scheduler/schedule:Schedule": { forceNew: ["name", "namePrefix", "groupName"], source: `${TF}scheduler/schedule.go` },
  "aws:scheduler/scheduleGroup:ScheduleGroup": { forceNew: ["name", "namePrefix"], source: `${TF}scheduler/schedule_group.go` },
  "aws:sns/topic:Topic": { forceNew: ["name", "namePrefix", "fifoTopic"], source: `${TF}sns/topic.go` },
  "aws:sns/topicPolicy:TopicPolicy": { forceNew: ["arn"], source: `${TF}sns/topic_policy.go` },
  // topic_arn (Pulumi: topic), protocol and endpoint are ForceNew: a new address is a new subscription.
  "aws:sns/topicSubscription:TopicSubscription": { forceNew: ["topic", "protocol", "endpoint", "endpointAutoConfirms", "confirmationTimeoutInMinutes"], source: `${TF}sns/topic_subscription.go` },
  "aws:sqs/queue:Queue": { forceNew: ["name", "namePrefix", "fifoQueue"], source: `${TF}sqs/queue.go` },
  // Only the document name is ForceNew (instance_id was too, and is gone from pulumi-aws v7); a new
  // `parameters` map or new targets are an UpdateAssociation, i.e. a new version that State Manager runs.
  "aws:ssm/association:Association": { forceNew: ["name"], source: `${TF}ssm/association.go` },
  "aws:ssm/parameter:Parameter": { forceNew: ["name"], source: `${TF}ssm/parameter.go` },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": { forceNew: ["securityGroupId"], source: `${TF}ec2/vpc_security_group_egress_rule.go` },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { forceNew: ["securityGroupId"], source: `${TF}ec2/vpc_security_group_ingress_rule.go` },
  // pulumi/pulumi-command: only `triggers` replaces; a changed `create` (without `update`) re-runs create.
  "command:local:Command": { forceNew: ["triggers"], source: "pulumi/pulumi-command provider/pkg/provider/local/command.go" },
  // pulumi/pulumi-random (terraform-provider-random resource_password.go): every argument is ForceNew.
  "random:index/randomPassword:RandomPassword": {
    forceNew: ["length", "special", "upper", "lower", "numeric", "minLower", "minUpper", "minNumeric", "minSpecial", "overrideSpecial", "keepers"],
    renewed: ["result", "bcryptHash"],
    source: "hashicorp/terraform-provider-random internal/provider/resource_password.go",
  },
};

export class UnknownResourceTypeError extends Error {}

export function ruleFor(type: string): ReplacementRule {
  const rule = REPLACEMENT_RULES[type];
  if (!rule) throw new UnknownResourceTypeError(`no replacement rule for ${type}: read its provider schema and add it to awsRules/replacement.ts`);
  return rule;
}

type Inputs = Readonly<Record<string, unknown>>;

/** invocation.go: CREATE_ONLY (the default) forces a new invocation on any input change; CRUD updates it. */
export function invocationInputForcesReplacement(inputs: Inputs): boolean {
  return (inputs.lifecycleScope ?? "CREATE_ONLY") === "CREATE_ONLY";
}

/** Every replace-on-change path of a resource, with the conditional ones its inputs switch on. */
export function replaceOnChangePaths(type: string, inputs: Inputs, replaceOnChanges: readonly string[] = []): string[] {
  const paths = [...ruleFor(type).forceNew, "region", ...replaceOnChanges];
  // ec2_instance.go CustomizeDiff: ForceNewIf user_data / user_data_base64 when user_data_replace_on_change.
  if (type === "aws:ec2/instance:Instance" && inputs.userDataReplaceOnChange === true) paths.push("userData", "userDataBase64");
  if (type === "aws:lambda/invocation:Invocation" && invocationInputForcesReplacement(inputs)) paths.push("input");
  return paths;
}

const index = /\[\d+\]/g;

/** Whether a changed leaf path (e.g. rootBlockDevice.encrypted, triggers.weight) falls under a rule path. */
export function pathMatches(changed: string, rule: string): boolean {
  const c = changed.replace(index, "");
  return c === rule || c.startsWith(`${rule}.`);
}

/** Leaf paths whose values differ between two input objects (arrays element-wise). */
export function changedPaths(before: unknown, after: unknown, path = ""): string[] {
  if (Object.is(before, after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
  if (Array.isArray(before) && Array.isArray(after)) {
    return Array.from({ length: Math.max(before.length, after.length) }, (_, i) => changedPaths(before[i], after[i], `${path}[${i}]`)).flat();
  }
  if (isObj(before) && isObj(after) && !Array.isArray(before) && !Array.isArray(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [path];
}

export type Step = "same" | "update" | "replace";

export interface Diff {
  step: Step;
  changed: string[];
  /** The changed paths that force the replacement. */
  forcing: string[];
}

/** Pulumi's diff of one resource: ignored paths keep their old value, then ForceNew paths decide. */
export function diffResource(type: string, before: Inputs, after: Inputs, opts: { ignoreChanges?: readonly string[]; replaceOnChanges?: readonly string[] } = {}): Diff {
  const ignored = opts.ignoreChanges ?? [];
  const changed = changedPaths(before, after).filter((p) => !ignored.some((i) => pathMatches(p, i)));
  const rules = replaceOnChangePaths(type, after, opts.replaceOnChanges);
  const forcing = changed.filter((p) => rules.some((r) => pathMatches(p, r)));
  return { step: forcing.length > 0 ? "replace" : changed.length > 0 ? "update" : "same", changed, forcing };
}

/** What the function receives from an aws.lambda.Invocation with lifecycleScope CRUD (invocation.go buildInput). */
export interface InvocationPayload {
  action: "create" | "update" | "delete";
  /** The configured input plus the `tf` key (terraform_key, default "tf"). */
  payload: Record<string, unknown>;
}

function crud(action: InvocationPayload["action"], input: string, prev: string | undefined): InvocationPayload {
  const parsed = JSON.parse(input) as Record<string, unknown>;
  return { action, payload: { ...parsed, tf: { action, prev_input: prev === undefined ? null : JSON.parse(prev) } } };
}

/**
 * The invocations one step of an Invocation resource makes, in order. CREATE_ONLY invokes on create
 * only, with the bare input. CRUD: create and update send the new input (prev_input: the old one on
 * update, null on create); delete sends the input in state (prev_input: the same).
 */
export function invocationsOf(step: "create" | "delete" | Step, before: Inputs | undefined, after: Inputs | undefined, deleteBeforeReplace = false): InvocationPayload[] {
  const scopeOf = (i: Inputs | undefined) => (i?.lifecycleScope ?? "CREATE_ONLY") as string;
  const create = (i: Inputs): InvocationPayload[] =>
    scopeOf(i) === "CRUD" ? [crud("create", String(i.input), undefined)] : [{ action: "create", payload: JSON.parse(String(i.input)) }];
  const remove = (i: Inputs): InvocationPayload[] => (scopeOf(i) === "CRUD" ? [crud("delete", String(i.input), String(i.input))] : []);
  if (step === "create" && after) return create(after);
  if (step === "delete" && before) return remove(before);
  if (step === "update" && before && after) return scopeOf(after) === "CRUD" ? [crud("update", String(after.input), String(before.input))] : [];
  if (step === "replace" && before && after) return deleteBeforeReplace ? [...remove(before), ...create(after)] : [...create(after), ...remove(before)];
  return [];
}
