// The scale-out building blocks on their own (the wired layouts are in program.layouts.test.ts).
import { ElastiCacheRedis, elastiCacheUrl } from "../../../components/elastiCacheRedis";
import { Network } from "../../../components/network";
import { checkProxyCount } from "../../../components/proxyFleet";
import { parseRedisUrl, baseOptions } from "../../../state/connection";
import { runUnderMocks } from "../../../harness/pulumiMocks";

const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG = "aws:ec2/securityGroup:SecurityGroup";

test("checkProxyCount: 2 to 20 proxies (one proxy is the Proxy component)", () => {
  expect(() => checkProxyCount(2)).not.toThrow();
  expect(() => checkProxyCount(20)).not.toThrow();
  for (const bad of [1, 21, 2.5]) expect(() => checkProxyCount(bad)).toThrow(/count must be an integer from 2 to 20/);
});

test("the ElastiCache URL is rediss:// and every Aviary client then connects with TLS and SNI", () => {
  const url = elastiCacheUrl("Token0123456789abcdef", "master.redis.abc123.use1.cache.amazonaws.com");
  expect(url).toBe("rediss://:Token0123456789abcdef@master.redis.abc123.use1.cache.amazonaws.com:6379");
  const parsed = parseRedisUrl(url);
  expect(parsed.password).toBe("Token0123456789abcdef");
  expect(baseOptions(parsed).tls).toEqual({ servername: "master.redis.abc123.use1.cache.amazonaws.com" });
});

test("ElastiCacheRedis refuses fewer than two subnets (Multi-AZ)", async () => {
  const run = await runUnderMocks(() => new ElastiCacheRedis("redis", { subnetIds: ["subnet-a"], securityGroupId: "sg-redis", nodeType: "cache.t4g.small" }), { captureError: true });
  expect(String(run.error)).toMatch(/Multi-AZ needs subnets in 2 AZs/);
});

describe("Network switches", () => {
  test("default: no load balancer group; the Redis instance may reach HTTPS", async () => {
    const run = await runUnderMocks(() => new Network("aviary", { appPort: 3000 }));
    expect(run.ofType(SG).map((g) => g.inputs.tags["aviary:tier"]).sort()).toEqual(["app", "controller", "proxy", "redis"]);
    expect(run.ofType(EGRESS).map((r) => r.name)).toContain("aviary-redis-out-https");
  });

  test("load balancer in front, ElastiCache behind: an lb group, and no internet egress for Redis", async () => {
    const run = await runUnderMocks(() => new Network("aviary", { appPort: 3000, proxyBehindLoadBalancer: true, redisOnInstance: false }));
    expect(run.ofType(SG).map((g) => g.inputs.tags["aviary:tier"]).sort()).toEqual(["app", "controller", "lb", "proxy", "redis"]);
    expect(run.ofType(EGRESS).map((r) => r.name)).not.toContain("aviary-redis-out-https");
    expect(run.ofType(SG).find((g) => g.inputs.tags["aviary:tier"] === "proxy")?.inputs.description).toBe("Aviary proxies: HTTP from the load balancer");
  });
});
