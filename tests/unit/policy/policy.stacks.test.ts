// Both stacks and both scale-out layouts under Pulumi's mocks: awsguard's rules and Aviary's report
// nothing, and the secrets key lets exactly the right roles read each SecureString.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { iamAllows, kmsAllows, type PolicyDocument } from "../../../awsRules/kmsKeyAccess";
import { readStackFile } from "../../../config/stackFile";
import { awsguardPolicies, awsguardResourcePolicies, DISABLED_AWSGUARD_RULES } from "../../../policy/awsguard";
import { checkPolicies, checkPoliciesAsync, checkStackPolicies } from "../../../policy/check";
import { mockArn, runUnderMocks, type MockRun, type Registered } from "../../../harness/pulumiMocks";

const ACCOUNT = "123456789012";
const prodConfig = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const canaryConfig = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));

async function run(stack: "prod" | "canary", config: Record<string, string>, stackReferenceOutputs?: Record<string, unknown>): Promise<MockRun<Record<string, unknown>>> {
  let result: MockRun<Record<string, unknown>> | undefined;
  await jest.isolateModulesAsync(async () => {
    result = await runUnderMocks(() => require("../../../index"), { stack, config, stackReferenceOutputs });
  });
  if (!result) throw new Error("program did not run");
  return result;
}

const valueOf = (o: unknown) => new Promise<unknown>((resolve) => (pulumi.output(o) as pulumi.Output<unknown>).apply((v: unknown) => resolve(v)));

/** What prod hands the canary stack, from a real prod run (so ARNs and paths match). */
async function outputsOf(prod: MockRun<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const entries = await Promise.all(Object.entries(prod.result).map(async ([k, v]) => [k, await valueOf(v)] as const));
  return Object.fromEntries(entries);
}

const layouts: [string, Record<string, string>][] = [
  ["prod", {}],
  ["prod, proxy.count 3 behind an NLB", { "aviary:proxy": JSON.stringify({ count: 3 }) }],
  ["prod, redis.mode elasticache", { "aviary:redis": JSON.stringify({ mode: "elasticache" }) }],
];

interface Role {
  name: string;
  arn: string;
  policies: PolicyDocument[];
}

function rolesOf(r: MockRun<unknown>): Role[] {
  return r.ofType("aws:iam/role:Role").map((role) => ({
    name: role.name,
    arn: `arn:aws:iam::${ACCOUNT}:role${role.inputs.path ?? "/"}${role.name}`,
    policies: r.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === role.id).map((p) => JSON.parse(p.inputs.policy)),
  }));
}

/** A role can read a SecureString: GetParameter on it, and Decrypt through SSM with its ARN as context. */
function canRead(role: Role, param: Registered, key: Registered, keyPolicy: PolicyDocument): boolean {
  const paramArn = mockArn(param.type, param.name);
  const context = { "kms:ViaService": "ssm.us-east-1.amazonaws.com", "kms:EncryptionContext:PARAMETER_ARN": paramArn };
  return iamAllows(role.policies, "ssm:GetParameter", paramArn)
    && kmsAllows(keyPolicy, role.policies, { action: "kms:Decrypt", keyArn: mockArn(key.type, key.name), principalArn: role.arn, account: ACCOUNT, context });
}

describe.each(layouts)("%s", (_label, extra) => {
  let prod: MockRun<Record<string, unknown>>;
  let canary: MockRun<Record<string, unknown>>;
  beforeAll(async () => {
    prod = await run("prod", { ...prodConfig, ...extra });
    canary = await run("canary", canaryConfig, await outputsOf(prod));
  });

  test("awsguard's rules (all but the disabled ones, each with a reason) and Aviary's report 0 violations", async () => {
    expect(awsguardPolicies.filter((p) => p.enforcementLevel !== "disabled").length).toBeGreaterThan(15);
    // Every awsguard stack rule calls AWS and is disabled; the rest run here.
    expect(awsguardPolicies.filter((p) => !awsguardResourcePolicies.includes(p as never)).every((p) => p.enforcementLevel === "disabled")).toBe(true);
    for (const reason of Object.values(DISABLED_AWSGUARD_RULES)) expect(reason.length).toBeGreaterThan(20);
    for (const r of [prod, canary]) {
      expect(await checkPoliciesAsync(r.resources, awsguardResourcePolicies)).toEqual([]);
      expect(checkPolicies(r.resources)).toEqual([]);
      expect(checkStackPolicies(r.resources.map((x) => ({ ...x, inputs: { ...x.inputs, arn: mockArn(x.type, x.name) } })))).toEqual([]);
    }
  });

  test("the secrets key: only the roles that need a parameter can read it; nothing else", () => {
    const key = prod.ofType("aws:kms/key:Key").find((k) => k.name === "redis-secrets");
    if (!key) throw new Error("no secrets key");
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(prod.ofType("aws:kms/alias:Alias").find((a) => a.name === "redis-secrets")?.inputs.name).toBe("alias/aviary-prod-redis-secrets");
    const keyPolicy: PolicyDocument = JSON.parse(prod.ofType("aws:kms/keyPolicy:KeyPolicy").find((p) => p.name === "redis-secrets")?.inputs.policy);
    // The proxy agent's release key is the one plain String parameter (not a secret).
    const params = prod.ofType("aws:ssm/parameter:Parameter").filter((p) => p.inputs.type === "SecureString");
    expect(prod.ofType("aws:ssm/parameter:Parameter").filter((p) => p.inputs.type !== "SecureString").map((p) => [p.name, p.inputs.type])).toEqual([["proxy-agent-key", "String"]]);
    for (const p of params) expect(p.inputs.keyId).toBe(mockArn(key.type, key.name));
    const url = params.find((p) => p.name === "redis-url");
    if (!url) throw new Error("no URL parameter");
    const password = params.find((p) => p.name === "redis-password");
    const roles = [...rolesOf(prod), ...rolesOf(canary)];
    const readersOf = (param: Registered) => roles.filter((r) => canRead(r, param, key, keyPolicy)).map((r) => r.name).sort();
    expect(readersOf(url)).toEqual(["canary-role", "prod-role", "proxy-role"]);
    if (password) expect(readersOf(password)).toEqual(["redis-role"]);
    else expect(extra["aviary:redis"]).toContain("elasticache");
    // An admin of the account with kms:* and ssm:* on everything (outside the reader paths) cannot.
    const admin: Role = { name: "admin", arn: `arn:aws:iam::${ACCOUNT}:role/admin`, policies: [{ Statement: [{ Effect: "Allow", Action: ["kms:*", "ssm:*"], Resource: "*" }] }] };
    expect(canRead(admin, url, key, keyPolicy)).toBe(false);
  });
});
