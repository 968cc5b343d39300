// The IMDSv2 stand-in: the pure answer table, then the real server on 127.0.0.1 read by curl the way
// the boot scripts read it (components/bootShell.ts IMDS_FUNCTIONS, run by bash).
import { execFile } from "node:child_process";
import * as http from "node:http";
import { join } from "node:path";
import { bootScriptPreamble, IMDS_FUNCTIONS } from "../../../components/bootShell";
import { answerImds, MAX_TOKEN_TTL_SECONDS, startImds, TokenStore, type ImdsInstance, type ImdsRequest, type ImdsServer } from "../../../boot/standins/imds";
import { tempDir } from "../../support/tempDir";

const A: ImdsInstance = { instanceId: "i-0aaaaaaaaaaaaaaa1", localIpv4: "10.77.0.10", region: "eu-west-1", availabilityZone: "eu-west-1b" };
const B: ImdsInstance = { instanceId: "i-0bbbbbbbbbbbbbbb2", localIpv4: "10.77.0.11", region: "eu-west-1", availabilityZone: "eu-west-1c", targetLifecycleState: "InService" };

describe("answerImds: IMDSv2 as the EC2 user guide documents it", () => {
  const instances = new Map([["10.77.0.10", A], ["10.77.0.11", B]]);
  const req = (r: Partial<ImdsRequest>): ImdsRequest => ({ method: "GET", path: "/", headers: {}, source: "10.77.0.10", ...r });
  const tokenFor = (tokens: TokenStore, source = "10.77.0.10", ttl = "300", now = 0) =>
    answerImds(req({ method: "PUT", path: "/latest/api/token", headers: { "x-aws-ec2-metadata-token-ttl-seconds": ttl }, source }), instances, tokens, now).body;

  test.each([
    ["no TTL header", 400, {}],
    ["TTL 0", 400, { "x-aws-ec2-metadata-token-ttl-seconds": "0" }],
    ["TTL above six hours", 400, { "x-aws-ec2-metadata-token-ttl-seconds": String(MAX_TOKEN_TTL_SECONDS + 1) }],
    ["TTL not a number", 400, { "x-aws-ec2-metadata-token-ttl-seconds": "5m" }],
    ["TTL 1 (the minimum)", 200, { "x-aws-ec2-metadata-token-ttl-seconds": "1" }],
    ["TTL 21600 (the maximum)", 200, { "x-aws-ec2-metadata-token-ttl-seconds": "21600" }],
    ["through a proxy (X-Forwarded-For)", 403, { "x-aws-ec2-metadata-token-ttl-seconds": "300", "x-forwarded-for": "203.0.113.9" }],
  ])("PUT /latest/api/token with %s -> %i", (_what, status, headers) => {
    expect(answerImds(req({ method: "PUT", path: "/latest/api/token", headers }), instances, new TokenStore(), 0).status).toBe(status);
  });

  test("expired sessions are dropped when the next token is issued", () => {
    const tokens = new TokenStore();
    for (let i = 0; i < 100; i++) tokenFor(tokens, "10.77.0.10", "5", i * 60_000);
    expect(tokens.size).toBe(1);
  });

  test("a GET of the token path is not a session start", () => {
    expect(answerImds(req({ path: "/latest/api/token" }), instances, new TokenStore(), 0).status).toBe(405);
  });

  test("a token's response names its TTL", () => {
    const r = answerImds(req({ method: "PUT", path: "/latest/api/token", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" } }), instances, new TokenStore(), 0);
    expect(r.headers).toEqual({ "x-aws-ec2-metadata-token-ttl-seconds": "60" });
    expect(r.body.length).toBeGreaterThanOrEqual(32);
  });

  test("reads need a token: none, a made-up one, an expired one, another instance's one are all 401", () => {
    const tokens = new TokenStore();
    const mine = tokenFor(tokens, "10.77.0.10", "60", 0);
    const theirs = tokenFor(tokens, "10.77.0.11", "60", 0);
    const read = (headers: Record<string, string>, now: number) => answerImds(req({ path: "/latest/meta-data/instance-id", headers }), instances, tokens, now);
    expect(read({}, 0).status).toBe(401);
    expect(read({ "x-aws-ec2-metadata-token": "not-a-token" }, 0).status).toBe(401);
    expect(read({ "x-aws-ec2-metadata-token": theirs }, 0).status).toBe(401);
    expect(read({ "x-aws-ec2-metadata-token": mine }, 59_999)).toEqual({ status: 200, body: A.instanceId });
    expect(read({ "x-aws-ec2-metadata-token": mine }, 60_000).status).toBe(401);
  });

  test.each([
    ["/latest/meta-data/instance-id", "10.77.0.10", A.instanceId],
    ["/latest/meta-data/local-ipv4", "10.77.0.10", A.localIpv4],
    ["/latest/meta-data/placement/region", "10.77.0.10", "eu-west-1"],
    ["/latest/meta-data/placement/availability-zone", "10.77.0.11", "eu-west-1c"],
    ["/latest/meta-data/autoscaling/target-lifecycle-state", "10.77.0.11", "InService"],
    ["/latest/meta-data/placement/", "10.77.0.10", "availability-zone\nregion"],
    ["/latest/meta-data/", "10.77.0.10", "instance-id\nlocal-ipv4\nplacement/"],
  ])("GET %s from %s -> its own value", (path, source, body) => {
    const tokens = new TokenStore();
    const token = tokenFor(tokens, source);
    expect(answerImds(req({ path, source, headers: { "x-aws-ec2-metadata-token": token } }), instances, tokens, 0)).toEqual({ status: 200, body });
  });

  test("the identity document is JSON with the instance's region, id and private address", () => {
    const tokens = new TokenStore();
    const r = answerImds(req({ path: "/latest/dynamic/instance-identity/document", headers: { "x-aws-ec2-metadata-token": tokenFor(tokens) } }), instances, tokens, 0);
    expect(JSON.parse(r.body)).toMatchObject({ region: "eu-west-1", instanceId: A.instanceId, privateIp: A.localIpv4, availabilityZone: "eu-west-1b" });
  });

  test.each([
    ["/latest/meta-data/iam/security-credentials/", 404],
    ["/latest/meta-data/autoscaling/target-lifecycle-state", 404], // A is in no Auto Scaling group
    ["/latest/user-data", 404],
  ])("GET %s -> %i", (path, status) => {
    const tokens = new TokenStore();
    expect(answerImds(req({ path, headers: { "x-aws-ec2-metadata-token": tokenFor(tokens) } }), instances, tokens, 0).status).toBe(status);
  });

  test("an address that is no instance gets nothing, not even a token", () => {
    const r = answerImds(req({ method: "PUT", path: "/latest/api/token", source: "10.77.0.99", headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" } }), instances, new TokenStore(), 0);
    expect(r.status).toBe(403);
    expect(r.body).toContain("10.77.0.99");
  });
});

function bash(script: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", script], { env: { PATH: process.env.PATH!, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("startImds: a real server, read by curl as the boot scripts read it", () => {
  let imds: ImdsServer;
  let clock = 1_000_000;
  beforeAll(async () => {
    imds = await startImds({ host: "127.0.0.1", port: 0, instances: { "127.0.0.1": A }, now: () => clock });
  });
  afterAll(() => imds.close());

  test("IMDS_FUNCTIONS get the instance id and private address (token first)", async () => {
    const dir = tempDir("aviary-imds-");
    const functions = IMDS_FUNCTIONS.replaceAll("http://169.254.169.254", imds.url);
    const r = await bash(`${bootScriptPreamble(join(dir, "boot.log"), "eu-west-1")}\n${functions}\necho "$(imds instance-id) $(imds local-ipv4) $(imds placement/region)"`);
    expect(r).toMatchObject({ code: 0, stdout: `${A.instanceId} ${A.localIpv4} eu-west-1\n` });
    const start = imds.log.length - 4;
    expect(imds.log.slice(start).map((l) => `${l.method} ${l.path} ${l.status}`)).toEqual([
      "PUT /latest/api/token 200",
      "GET /latest/meta-data/instance-id 200",
      "GET /latest/meta-data/local-ipv4 200",
      "GET /latest/meta-data/placement/region 200",
    ]);
  });

  test("IMDSv1 (no token) is refused with 401, and curl -f fails on it", async () => {
    const r = await bash(`curl -fsS ${imds.url}/latest/meta-data/instance-id`);
    expect(r.code).toBe(22);
    expect(r.stderr).toContain("401");
  });

  test("a token expires after its TTL", async () => {
    const token = (await bash(`curl -fsS -X PUT ${imds.url}/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 2'`)).stdout;
    const read = () => bash(`curl -fsS -H "X-aws-ec2-metadata-token: ${token}" ${imds.url}/latest/meta-data/instance-id`);
    expect((await read()).stdout).toBe(A.instanceId);
    clock += 2_000;
    expect((await read()).code).toBe(22);
  });

  test("update() changes what the instance reads next (its target lifecycle state)", async () => {
    imds.update("127.0.0.1", { targetLifecycleState: "Terminated" });
    const r = await bash(`t=$(curl -fsS -X PUT ${imds.url}/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') && curl -fsS -H "X-aws-ec2-metadata-token: $t" ${imds.url}/latest/meta-data/autoscaling/target-lifecycle-state`);
    expect(r.stdout).toBe("Terminated");
    expect(() => imds.update("10.0.0.1", {})).toThrow(/no instance at 10.0.0.1/);
  });

  test("keep-alive clients (node's http agent) get every answer on one connection", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const call = (method: string, path: string, headers: Record<string, string>) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = http.request(`${imds.url}${path}`, { method, headers, agent }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      });
      r.on("error", reject);
      r.end();
    });
    const token = (await call("PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" })).body;
    expect(await call("GET", "/latest/meta-data/placement/availability-zone", { "X-aws-ec2-metadata-token": token })).toEqual({ status: 200, body: "eu-west-1b" });
    agent.destroy();
  });
});
