// VPC, subnets, NAT and the security groups of every Aviary tier, least privilege between them.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PROXY_HTTP_PORT, REDIS_PORT } from "../config/ports";
import { ConfigError, InvalidInputError } from "../core/errors";

export interface NetworkArgs {
  /** VPC CIDR, must be a /16 (default 10.0.0.0/16). */
  cidrBlock?: pulumi.Input<string>;
  /** TCP port the app listens on; the only port the proxy may reach on app instances. */
  appPort: number;
  /** Proxies sit behind a public load balancer (its own group takes the internet's port 80). */
  proxyBehindLoadBalancer?: boolean;
  /** Redis runs on an EC2 instance that needs HTTPS out (packages, SSM); not for ElastiCache. */
  redisOnInstance?: boolean;
}

const AZ_COUNT = 2;
const ANY_IPV4 = "0.0.0.0/0";
const ANY_IPV6 = "::/0";

/** The /24 at `index` inside a /16 VPC CIDR: public subnets use 0.., private 10... */
export function subnetCidr(vpcCidr: string, index: number): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\/16$/.exec(vpcCidr);
  if (!m) throw new InvalidInputError(`Network: cidrBlock must be a /16 like 10.0.0.0/16 (got ${vpcCidr})`);
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new InvalidInputError(`Network: subnet index ${index} out of range`);
  return `${m[1]}.${m[2]}.${index}.0/24`;
}

export class Network extends pulumi.ComponentResource {
  public readonly vpcId: pulumi.Output<string>;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly privateSubnetIds: pulumi.Output<string>[];
  public readonly proxySecurityGroupId: pulumi.Output<string>;
  public readonly appSecurityGroupId: pulumi.Output<string>;
  public readonly redisSecurityGroupId: pulumi.Output<string>;
  public readonly controllerSecurityGroupId: pulumi.Output<string>;
  /** The load balancer's group; only with proxyBehindLoadBalancer. */
  public readonly loadBalancerSecurityGroupId?: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:network:Network", name, {}, opts);
    const parent = { parent: this };
    if (!Number.isInteger(args.appPort) || args.appPort < 1 || args.appPort > 65535) {
      throw new InvalidInputError(`Network: appPort must be a TCP port (got ${args.appPort})`);
    }
    const cidr = pulumi.output(args.cidrBlock ?? "10.0.0.0/16");

    const vpc = new aws.ec2.Vpc(name, {
      cidrBlock: cidr,
      enableDnsHostnames: true, // SSM and the S3 endpoint need VPC DNS
      enableDnsSupport: true,
      tags: { Name: name },
    }, parent);

    const azs = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
    const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id, tags: { Name: name } }, parent);

    const publicRt = new aws.ec2.RouteTable(`${name}-public`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: ANY_IPV4, gatewayId: igw.id }],
      tags: { Name: `${name}-public` },
    }, parent);

    const publicSubnets: aws.ec2.Subnet[] = [];
    const privateSubnets: aws.ec2.Subnet[] = [];
    for (let i = 0; i < AZ_COUNT; i++) {
      const az = azs.names.apply((names) => {
        if (names.length < AZ_COUNT) throw new ConfigError(`Network: region has ${names.length} AZs, need ${AZ_COUNT}`);
        return names[i];
      });
      const pub = new aws.ec2.Subnet(`${name}-public-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr.apply((c) => subnetCidr(c, i)),
        availabilityZone: az,
        // Only the proxy lives here and it gets an Elastic IP; nothing gets a public IP by default.
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${i}`, "aviary:tier": "public" },
      }, parent);
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: pub.id, routeTableId: publicRt.id }, parent);
      publicSubnets.push(pub);

      privateSubnets.push(new aws.ec2.Subnet(`${name}-private-${i}`, {
        vpcId: vpc.id,
        cidrBlock: cidr.apply((c) => subnetCidr(c, 10 + i)),
        availabilityZone: az,
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-private-${i}`, "aviary:tier": "private" },
      }, parent));
    }

    // One NAT gateway keeps cost down; a NAT per AZ would be the HA choice.
    const natEip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: { Name: `${name}-nat` } }, parent);
    const nat = new aws.ec2.NatGateway(name, {
      allocationId: natEip.id,
      subnetId: publicSubnets[0].id,
      tags: { Name: name },
    }, { parent: this, dependsOn: [igw] });
    const privateRt = new aws.ec2.RouteTable(`${name}-private`, {
      vpcId: vpc.id,
      routes: [{ cidrBlock: ANY_IPV4, natGatewayId: nat.id }],
      tags: { Name: `${name}-private` },
    }, parent);
    privateSubnets.forEach((s, i) =>
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: s.id, routeTableId: privateRt.id }, parent));

    // S3 traffic (releases, dnf mirrors) stays off the NAT gateway.
    const region = aws.getRegionOutput({}, parent);
    new aws.ec2.VpcEndpoint(`${name}-s3`, {
      vpcId: vpc.id,
      serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [privateRt.id, publicRt.id],
      tags: { Name: `${name}-s3` },
    }, parent);

    // Groups without inline rules; every rule below is its own resource (no cycles, no drift).
    const sg = (tier: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${tier}`, {
        vpcId: vpc.id,
        description,
        tags: { Name: `${name}-${tier}`, "aviary:tier": tier },
      }, parent);
    const proxy = sg("proxy", args.proxyBehindLoadBalancer ? "Aviary proxies: HTTP from the load balancer" : "Aviary proxy: HTTP from the internet");
    const app = sg("app", "Aviary app instances: app port from the proxy");
    const redis = sg("redis", "Aviary Redis: 6379 from proxy, app and controller");
    const controller = sg("controller", "Aviary controller Lambda");

    const tcp = { ipProtocol: "tcp" } as const;
    const ingress = (rule: string, sgId: pulumi.Input<string>, port: number, from: { cidrIpv4?: string; cidrIpv6?: string; referencedSecurityGroupId?: pulumi.Input<string> }) =>
      new aws.vpc.SecurityGroupIngressRule(`${name}-${rule}`, { ...tcp, securityGroupId: sgId, fromPort: port, toPort: port, ...from }, parent);
    const egress = (rule: string, sgId: pulumi.Input<string>, port: number, to: { cidrIpv4?: string; referencedSecurityGroupId?: pulumi.Input<string> }) =>
      new aws.vpc.SecurityGroupEgressRule(`${name}-${rule}`, { ...tcp, securityGroupId: sgId, fromPort: port, toPort: port, ...to }, parent);

    // Ingress: the internet reaches port 80 of the proxy, or of the load balancer in front of the
    // proxies (which then take 80 from the balancer only); everything else is tier to tier.
    const lb = args.proxyBehindLoadBalancer ? sg("lb", "Aviary load balancer: HTTP from the internet") : undefined;
    const [publicTier, publicGroup] = lb ? ["lb", lb] : ["proxy", proxy];
    ingress(`${publicTier}-in-http-v4`, publicGroup.id, PROXY_HTTP_PORT, { cidrIpv4: ANY_IPV4 });
    ingress(`${publicTier}-in-http-v6`, publicGroup.id, PROXY_HTTP_PORT, { cidrIpv6: ANY_IPV6 });
    if (lb) {
      ingress("proxy-in-from-lb", proxy.id, PROXY_HTTP_PORT, { referencedSecurityGroupId: lb.id });
      egress("lb-out-proxy", lb.id, PROXY_HTTP_PORT, { referencedSecurityGroupId: proxy.id });
    }
    ingress("app-in-from-proxy", app.id, args.appPort, { referencedSecurityGroupId: proxy.id });
    ingress("redis-in-from-app", redis.id, REDIS_PORT, { referencedSecurityGroupId: app.id });
    ingress("redis-in-from-proxy", redis.id, REDIS_PORT, { referencedSecurityGroupId: proxy.id });
    ingress("redis-in-from-controller", redis.id, REDIS_PORT, { referencedSecurityGroupId: controller.id });

    // Egress: 443 for AWS APIs and packages, plus the tier-to-tier ports above.
    egress("proxy-out-app", proxy.id, args.appPort, { referencedSecurityGroupId: app.id });
    egress("proxy-out-redis", proxy.id, REDIS_PORT, { referencedSecurityGroupId: redis.id });
    egress("proxy-out-https", proxy.id, 443, { cidrIpv4: ANY_IPV4 });
    egress("app-out-https", app.id, 443, { cidrIpv4: ANY_IPV4 });
    egress("app-out-redis", app.id, REDIS_PORT, { referencedSecurityGroupId: redis.id });
    if (args.redisOnInstance ?? true) egress("redis-out-https", redis.id, 443, { cidrIpv4: ANY_IPV4 });
    egress("controller-out-https", controller.id, 443, { cidrIpv4: ANY_IPV4 });
    egress("controller-out-redis", controller.id, REDIS_PORT, { referencedSecurityGroupId: redis.id });

    this.vpcId = vpc.id;
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.proxySecurityGroupId = proxy.id;
    this.appSecurityGroupId = app.id;
    this.redisSecurityGroupId = redis.id;
    this.controllerSecurityGroupId = controller.id;
    this.loadBalancerSecurityGroupId = lb?.id;
    this.registerOutputs({
      loadBalancerSecurityGroupId: this.loadBalancerSecurityGroupId,
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      proxySecurityGroupId: this.proxySecurityGroupId,
      appSecurityGroupId: this.appSecurityGroupId,
      redisSecurityGroupId: this.redisSecurityGroupId,
      controllerSecurityGroupId: this.controllerSecurityGroupId,
    });
  }
}
