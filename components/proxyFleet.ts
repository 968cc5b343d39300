// More than one proxy: identical proxy instances in an Auto Scaling group behind a public Network
// Load Balancer. Each runs the same boot script as the single proxy (HAProxy + agent), and every
// agent follows the same Redis, so all proxies apply the same weights to the same server slots.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PROXY_HTTP_PORT } from "../config/ports";
import { privateLaunchTemplate } from "./instanceDefaults";
import { InstanceRole } from "./instanceRole";
import { redisUrlSecret } from "./redisUrlParameter";
import { proxyInstanceStatements, proxyUserData, type ProxyInstanceArgs } from "./proxy";
import { PROXY_AGENT_TARGET_TAG, proxyAgentAssociation, proxyAgentKeyParameter } from "./proxyAgent";
import { InvalidInputError } from "../core/errors";

export interface ProxyFleetArgs extends ProxyInstanceArgs {
  count: number;
  vpcId: pulumi.Input<string>;
  /** Where the load balancer listens (one per AZ). */
  publicSubnetIds: pulumi.Input<string>[];
  /** Where the proxies run: no public IPs, the NAT gateway for packages and AWS APIs. */
  privateSubnetIds: pulumi.Input<string>[];
  /** Port 80 from the load balancer's group only. */
  proxySecurityGroupId: pulumi.Input<string>;
  /** Port 80 from the internet, out to the proxies. */
  loadBalancerSecurityGroupId: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
}

/** Throws unless count is an integer from 2 to 20 (one proxy is the Proxy component). */
export function checkProxyCount(count: number): void {
  if (!Number.isInteger(count) || count < 2 || count > 20) throw new InvalidInputError(`ProxyFleet: count must be an integer from 2 to 20 (got ${count})`);
}

export class ProxyFleet extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly dnsName: pulumi.Output<string>;
  public readonly loadBalancerArn: pulumi.Output<string>;
  public readonly targetGroupArn: pulumi.Output<string>;
  public readonly autoScalingGroupName: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: ProxyFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:proxy:ProxyFleet", name, {}, opts);
    const parent = { parent: this };
    checkProxyCount(args.count);

    const agentKey = proxyAgentKeyParameter(name, args.release.agentKey, parent);
    const role = new InstanceRole(`${name}-role`, { statements: proxyInstanceStatements(args, agentKey.arn), secret: redisUrlSecret(args) }, parent);
    const userData = proxyUserData(args, agentKey.name, aws.getRegionOutput({}, parent).region);
    const tags = { Name: name, "aviary:role": "proxy", [PROXY_AGENT_TARGET_TAG]: args.deployment };

    const launchTemplate = privateLaunchTemplate(name, {
      instanceType: args.instanceType,
      instanceProfileName: role.instanceProfileName,
      securityGroupId: args.proxySecurityGroupId,
      userData,
      tags,
    }, parent);

    // Security groups on the NLB (they can only be set at creation): the proxies then admit
    // exactly the balancer's group, and client IPs still reach HAProxy (preserved by the NLB).
    const lb = new aws.lb.LoadBalancer(name, {
      loadBalancerType: "network",
      internal: false,
      subnets: args.publicSubnetIds,
      securityGroups: [args.loadBalancerSecurityGroupId],
      enableCrossZoneLoadBalancing: true,
      tags: { Name: name },
    }, parent);

    const targetGroup = new aws.lb.TargetGroup(name, {
      port: PROXY_HTTP_PORT,
      protocol: "TCP",
      targetType: "instance",
      vpcId: args.vpcId,
      // TCP, not HTTP: HAProxy answers 503 while no backend is registered, and that proxy is
      // still healthy. Short deregistration: HAProxy finishes requests itself.
      healthCheck: { protocol: "TCP", port: String(PROXY_HTTP_PORT), interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
      deregistrationDelay: 30,
      tags: { Name: name },
    }, parent);

    new aws.lb.Listener(`${name}-http`, {
      loadBalancerArn: lb.arn,
      port: PROXY_HTTP_PORT,
      protocol: "TCP",
      defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      tags: { Name: `${name}-http` },
    }, parent);

    const group = new aws.autoscaling.Group(name, {
      namePrefix: `${name}-`,
      vpcZoneIdentifiers: args.privateSubnetIds,
      minSize: args.count,
      maxSize: args.count,
      desiredCapacity: args.count,
      launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
      targetGroupArns: [targetGroup.arn],
      // A proxy whose port 80 stops answering the balancer is replaced.
      healthCheckType: "ELB",
      healthCheckGracePeriod: 300,
      // A new launch template version (e.g. a new AMI) replaces proxies one at a time; a new agent
      // release is no new version (the association below installs it on the running proxies).
      instanceRefresh: {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 50, instanceWarmup: "180" },
      },
      tags: Object.entries(tags).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    }, parent);

    // Every proxy of this deployment, also those the group launches later (State Manager runs the
    // association on a new matching instance when it comes online).
    proxyAgentAssociation(name, { deployment: args.deployment, parameter: agentKey, targets: [{ key: `tag:${PROXY_AGENT_TARGET_TAG}`, values: [args.deployment] }] }, parent);

    this.dnsName = lb.dnsName;
    this.url = pulumi.interpolate`http://${lb.dnsName}`;
    this.loadBalancerArn = lb.arn;
    this.targetGroupArn = targetGroup.arn;
    this.autoScalingGroupName = group.name;
    this.roleArn = role.roleArn;
    this.registerOutputs({
      url: this.url,
      dnsName: this.dnsName,
      loadBalancerArn: this.loadBalancerArn,
      targetGroupArn: this.targetGroupArn,
      autoScalingGroupName: this.autoScalingGroupName,
      roleArn: this.roleArn,
    });
  }
}
