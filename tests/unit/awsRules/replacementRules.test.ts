// Table tests of awsRules/replacement.ts and the image choice in components/instanceDefaults.ts.
import { changedPaths, diffResource, invocationsOf, REPLACEMENT_RULES, UnknownResourceTypeError, ruleFor } from "../../../awsRules/replacement";
import { al2023AmiParameter, architectureOf, InstanceTypeError, singleInstanceImageOptions } from "../../../components/instanceDefaults";

test.each([
  ["aws:ec2/instance:Instance", { ami: "a", userData: "x", userDataReplaceOnChange: true }, { ami: "b", userData: "x", userDataReplaceOnChange: true }, {}, "replace"],
  ["aws:ec2/instance:Instance", { ami: "a" }, { ami: "b" }, { ignoreChanges: ["ami"] }, "same"],
  ["aws:ec2/instance:Instance", { userData: "x" }, { userData: "y" }, {}, "update"],
  ["aws:ec2/instance:Instance", { userData: "x", userDataReplaceOnChange: true }, { userData: "y", userDataReplaceOnChange: true }, {}, "replace"],
  ["aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: true, volumeSize: 16 } }, { rootBlockDevice: { encrypted: true, volumeSize: 32 } }, {}, "update"],
  ["aws:ec2/instance:Instance", { rootBlockDevice: { encrypted: false } }, { rootBlockDevice: { encrypted: true } }, {}, "replace"],
  ["aws:ec2/instance:Instance", { instanceType: "t3.small" }, { instanceType: "t3.large" }, {}, "update"],
  ["aws:ec2/launchTemplate:LaunchTemplate", { imageId: "a" }, { imageId: "b" }, {}, "update"],
  ["aws:lambda/invocation:Invocation", { input: "{}", lifecycleScope: "CRUD" }, { input: '{"a":1}', lifecycleScope: "CRUD" }, {}, "update"],
  ["aws:lambda/invocation:Invocation", { input: "{}" }, { input: '{"a":1}' }, {}, "replace"],
  ["aws:lambda/invocation:Invocation", { input: "{}", lifecycleScope: "CRUD", triggers: { w: "1" } }, { input: "{}", lifecycleScope: "CRUD", triggers: { w: "2" } }, {}, "replace"],
  ["aws:cloudwatch/metricAlarm:MetricAlarm", { name: "n", threshold: 70 }, { name: "n", threshold: 75 }, {}, "update"],
  ["aws:sns/topicSubscription:TopicSubscription", { endpoint: "a@x" }, { endpoint: "b@x" }, {}, "replace"],
  ["aws:s3/bucketObjectv2:BucketObjectv2", { key: "releases/1-a/app.js" }, { key: "releases/1-b/app.js" }, {}, "replace"],
  ["aws:ec2/eip:Eip", { instance: "i-1" }, { instance: "i-2" }, {}, "update"],
  ["aws:ec2/volumeAttachment:VolumeAttachment", { instanceId: "i-1" }, { instanceId: "i-2" }, {}, "replace"],
  ["aws:ebs/volume:Volume", { availabilityZone: "a" }, { availabilityZone: "b" }, {}, "replace"],
  ["aws:ssm/association:Association", { name: "AWS-RunShellScript", parameters: { commands: "x a" } }, { name: "AWS-RunShellScript", parameters: { commands: "x b" } }, {}, "update"],
  ["aws:ssm/association:Association", { name: "AWS-RunShellScript", targets: [{ key: "InstanceIds", values: ["i-1"] }] }, { name: "AWS-RunShellScript", targets: [{ key: "InstanceIds", values: ["i-2"] }] }, {}, "update"],
  ["aws:ssm/association:Association", { name: "AWS-RunShellScript" }, { name: "AWS-RunPowerShellScript" }, {}, "replace"],
  ["aws:ssm/parameter:Parameter", { value: "a" }, { value: "b" }, {}, "update"],
  ["aws:ssm/parameter:Parameter", { value: "a" }, { value: "a" }, { replaceOnChanges: ["value"] }, "same"],
  ["aws:ssm/parameter:Parameter", { value: "a", region: "us-east-1" }, { value: "a", region: "us-west-2" }, {}, "replace"],
  ["aws:scheduler/schedule:Schedule", { name: "h", scheduleExpression: "rate(1 minute)" }, { name: "h", scheduleExpression: "rate(5 minutes)" }, {}, "update"],
  ["aws:scheduler/schedule:Schedule", { name: "h", target: { arn: "a", input: "{}" } }, { name: "h", target: { arn: "b", input: "{}" } }, {}, "update"],
  ["aws:scheduler/schedule:Schedule", { name: "h", groupName: "g1" }, { name: "h", groupName: "g2" }, {}, "replace"],
  ["aws:scheduler/schedule:Schedule", { name: "h" }, { name: "i" }, {}, "replace"],
] as const)("%s %j -> %j %j: %s", (type, before, after, opts, step) => {
  expect(diffResource(type, before, after, opts).step).toBe(step);
});

test("changedPaths names leaves, array elements included", () => {
  expect(changedPaths({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] }, d: 0 })).toEqual(["b.c[1]", "d"]);
});

test("an unknown resource type is refused, naming the file to extend", () => {
  expect(() => ruleFor("aws:ec2/fooBar:FooBar")).toThrow(UnknownResourceTypeError);
  for (const rule of Object.values(REPLACEMENT_RULES)) expect(rule.source).toMatch(/\.go$/);
});

test("CRUD invocations: create, update (prev_input), delete, and a create-before-delete replacement that ends with delete", () => {
  const a = { input: '{"w":1}', lifecycleScope: "CRUD" };
  const b = { input: '{"w":2}', lifecycleScope: "CRUD" };
  expect(invocationsOf("create", undefined, a)).toEqual([{ action: "create", payload: { w: 1, tf: { action: "create", prev_input: null } } }]);
  expect(invocationsOf("update", a, b)).toEqual([{ action: "update", payload: { w: 2, tf: { action: "update", prev_input: { w: 1 } } } }]);
  expect(invocationsOf("delete", a, undefined)).toEqual([{ action: "delete", payload: { w: 1, tf: { action: "delete", prev_input: { w: 1 } } } }]);
  expect(invocationsOf("replace", a, b).map((i) => [i.action, i.payload.w])).toEqual([["create", 2], ["delete", 1]]);
  expect(invocationsOf("replace", a, b, true).map((i) => [i.action, i.payload.w])).toEqual([["delete", 1], ["create", 2]]);
  expect(invocationsOf("delete", { input: "{}" }, undefined)).toEqual([]);
});

test.each([
  ["t3.small", "x86_64"], ["m5.large", "x86_64"], ["c7i.xlarge", "x86_64"], ["g4dn.xlarge", "x86_64"], ["m7i-flex.large", "x86_64"],
  ["t4g.small", "arm64"], ["m7g.large", "arm64"], ["c7g.2xlarge", "arm64"], ["c7gn.large", "arm64"], ["r8g.medium", "arm64"],
  ["x2gd.large", "arm64"], ["im4gn.large", "arm64"], ["is4gen.large", "arm64"], ["g5g.xlarge", "arm64"], ["a1.medium", "arm64"], ["m6gd.large", "arm64"],
] as const)("%s boots the %s image", (type, arch) => {
  expect(architectureOf(type)).toBe(arch);
  expect(al2023AmiParameter(type)).toBe(`/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${arch}`);
});

test("a malformed instance type is refused with a clear error", () => {
  expect(() => architectureOf("t4g")).toThrow(InstanceTypeError);
  expect(() => architectureOf("T3.small")).toThrow(/not an EC2 instance type like t3.small/);
});

test("single instances ignore a new image unless one is pinned", () => {
  expect(singleInstanceImageOptions(undefined)).toEqual({ ignoreChanges: ["ami"] });
  expect(singleInstanceImageOptions("ami-0123456789abcdef0")).toEqual({});
});
