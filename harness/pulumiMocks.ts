// Runs Pulumi code in-process under Pulumi's mocks (no CLI, no AWS) and records every registration.
import * as pulumi from "@pulumi/pulumi";
import { InvariantError } from "../core/errors";

export interface Registered {
  type: string;
  name: string;
  /** Inputs with secrets unwrapped (see `secretInputs` for which were secret). */
  inputs: Record<string, any>;
  secretInputs: string[];
  id: string;
  urn: string;
  /** The replacement-related resource options (recorded when run with `recordOptions`). */
  options?: RecordedOptions;
}

export interface RecordedOptions {
  ignoreChanges?: string[];
  deleteBeforeReplace?: boolean;
  replaceOnChanges?: string[];
}

export interface MockRun<T> {
  resources: Registered[];
  result: T;
  /** What the program threw, when run with `captureError` (resources then holds what got registered first). */
  error?: unknown;
  ofType(type: string): Registered[];
  one(type: string): Registered;
}

export interface MockOptions {
  stack?: string;
  project?: string;
  /** Config map with full keys, e.g. { "aviary:role": "prod" }; structured values as JSON strings. */
  config?: Record<string, string>;
  secretKeys?: string[];
  /** Outputs returned for any StackReference. */
  stackReferenceOutputs?: Record<string, unknown>;
  /** Return the program's exception in `error` instead of throwing it. */
  captureError?: boolean;
  /** Run inside a root stack resource and record each resource's options (see tests/support/changeImpact.ts). */
  recordOptions?: boolean;
  /**
   * Resources (by urn) that get a new physical resource in this run: their id and the outputs named
   * by `renewed(type)` (all outputs when it returns "all") come back different, as after a replacement.
   */
  replaced?: ReadonlyMap<string, "renewed" | "all">;
  renewed?: (type: string) => readonly string[];
  /** The image id the SSM AMI parameter (and getAmi) answers with. */
  imageId?: string;
}

function unwrap(value: unknown, path: string, secrets: string[]): any {
  if (pulumi.runtime.isRpcSecret(value)) {
    secrets.push(path);
    return unwrap(pulumi.runtime.unwrapRpcSecret(value), path, secrets);
  }
  if (Array.isArray(value)) return value.map((v, i) => unwrap(v, `${path}[${i}]`, secrets));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v, path ? `${path}.${k}` : k, secrets)]));
  }
  return value;
}

/** The ARN the mocks give a resource, so tests can say which resource another one points at. */
export function mockArn(type: string, name: string): string {
  // IAM ARNs have AWS's real shape (no region): key and topic policies are checked against it.
  const iam = /^aws:iam\/(role|instanceProfile|policy):/.exec(type);
  if (iam) return `arn:aws:iam::123456789012:${iam[1] === "instanceProfile" ? "instance-profile" : iam[1]}/${name}`;
  return `arn:aws:mock:us-east-1:123456789012:${type}/${name}`;
}

/** Plausible provider-computed outputs, so code that reads them (arn, id, names) gets strings. */
function computedState(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const base = { ...args.inputs, arn: mockArn(args.type, args.name) };
  switch (args.type) {
    case "aws:ec2/instance:Instance":
      return { ...base, privateIp: "10.0.10.10", publicIp: "203.0.113.10", publicDns: "ec2-203-0-113-10.compute-1.amazonaws.com", availabilityZone: "us-east-1a" };
    case "aws:ec2/networkInterface:NetworkInterface":
      return { ...base, privateIp: "10.0.10.20" };
    case "aws:autoscaling/group:Group":
    case "aws:lambda/function:Function":
    case "aws:sns/topic:Topic":
    case "aws:cloudwatch/dashboard:Dashboard":
    case "aws:elasticache/subnetGroup:SubnetGroup":
      return { ...base, name: args.inputs.name ?? args.inputs.dashboardName ?? args.name };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...base, latestVersion: 1 };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { ...base, dnsName: `${args.name}-0123456789.elb.us-east-1.amazonaws.com` };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { ...base, primaryEndpointAddress: `master.${args.name}.abc123.use1.cache.amazonaws.com` };
    case "random:index/randomPassword:RandomPassword":
      return { ...base, result: "mock-password-0123456789abcdef" };
    case "aws:s3/bucketV2:BucketV2":
    case "aws:s3/bucket:Bucket":
      return { ...base, bucket: args.inputs.bucket ?? `${args.name}-bucket` };
    default:
      return base;
  }
}

export async function runUnderMocks<T>(program: () => T | Promise<T>, opts: MockOptions = {}): Promise<MockRun<T>> {
  const resources: Registered[] = [];
  const stack = opts.stack ?? "prod";
  const project = opts.project ?? "aviary";
  pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretInputs: string[] = [];
        const inputs = unwrap(args.inputs, "", secretInputs);
        const id = `${args.name}-id`;
        if (args.type === "pulumi:pulumi:StackReference") {
          return { id: args.name, state: { outputs: opts.stackReferenceOutputs ?? {}, secretOutputNames: [] } };
        }
        if (args.type === "pulumi:pulumi:Stack") return { id: args.name, state: {} };
        const urn = `${args.type}::${args.name}`;
        const options = recorded.get(urn);
        const renewal = opts.replaced?.get(urn);
        const state = computedState({ ...args, inputs });
        if (!renewal) {
          resources.push({ type: args.type, name: args.name, inputs, secretInputs, id, urn, ...(options ? { options } : {}) });
          return { id, state };
        }
        const fresh = (v: unknown) => (typeof v === "string" ? `${v}~new` : v);
        const renewed = renewal === "all" ? Object.keys(state) : ["arn", ...(opts.renewed?.(args.type) ?? [])];
        for (const key of renewed) if (key in state) state[key] = fresh(state[key]);
        resources.push({ type: args.type, name: args.name, inputs, secretInputs, id: `${id}~new`, urn, ...(options ? { options } : {}) });
        return { id: `${id}~new`, state };
      },
      call(args) {
        switch (args.token) {
          case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return { names: ["us-east-1a", "us-east-1b", "us-east-1c"], zoneIds: ["use1-az1", "use1-az2", "use1-az3"] };
          case "aws:index/getRegion:getRegion":
            // region, not the deprecated name: reading .name would give "undefined" in every ARN.
            return { region: "us-east-1", id: "us-east-1" };
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return { accountId: "123456789012", arn: "arn:aws:iam::123456789012:user/ci", userId: "ci" };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com" };
          case "aws:ssm/getParameter:getParameter":
            return { ...args.inputs, value: opts.imageId ?? "ami-0123456789abcdef0", type: "String" };
          case "aws:ec2/getSubnet:getSubnet":
            return { ...args.inputs, availabilityZone: "us-east-1a", cidrBlock: "10.0.10.0/24" };
          case "aws:ec2/getAmi:getAmi":
            return { ...args.inputs, id: opts.imageId ?? "ami-0123456789abcdef0", imageId: opts.imageId ?? "ami-0123456789abcdef0" };
          case "aws:iam/getPolicyDocument:getPolicyDocument":
            return { json: JSON.stringify({ Version: "2012-10-17", Statement: args.inputs.statements ?? [] }) };
          default:
            return args.inputs;
        }
      },
    },
    project,
    stack,
    false,
  );
  const recorded = new Map<string, RecordedOptions>();
  const record: pulumi.ResourceTransformation = ({ type, name, props, opts: o }) => {
    const { ignoreChanges, deleteBeforeReplace, replaceOnChanges } = o as pulumi.CustomResourceOptions;
    recorded.set(`${type}::${name}`, { ignoreChanges, deleteBeforeReplace, replaceOnChanges });
    return { props, opts: o };
  };
  let result: T | undefined;
  let error: unknown;
  try {
    result = opts.recordOptions
      ? await new Promise<T>((resolve, reject) => {
        pulumi.runtime.runInPulumiStack(async () => {
          pulumi.runtime.registerStackTransformation(record);
          try {
            resolve(await program());
          } catch (e) {
            reject(e);
          }
          return {};
        }).catch(reject);
      })
      : await program();
  } catch (e) {
    if (!opts.captureError) throw e;
    error = e;
  }
  // Registrations started inside apply callbacks land later; wait until the count stays put.
  let seen = -1;
  for (let quiet = 0; quiet < 5; quiet = resources.length === seen ? quiet + 1 : 0) {
    seen = resources.length;
    await new Promise((r) => setTimeout(r, 10));
  }
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const one = (type: string) => {
    const found = ofType(type);
    if (found.length !== 1) throw new InvariantError(`expected one ${type}, found ${found.length}`);
    return found[0];
  };
  return { resources, result: result as T, error, ofType, one };
}

/** Resolves an Output in a test (under mocks every Output is known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
