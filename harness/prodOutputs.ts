// What the canary stack reads from prod's StackReference, for running it under Pulumi's mocks
// (tests/unit/program/program.canary.test.ts, bench/programRun.ts).
export const PROD_STACK_OUTPUTS = {
  deployment: "aviary-prod",
  privateSubnetIds: ["subnet-private-a", "subnet-private-b"],
  appSecurityGroupId: "sg-app",
  topicArn: "arn:aws:sns:us-east-1:123456789012:aviary-prod-alerts",
  controllerFunctionName: "aviary-prod-controller",
  redisUrlParameterName: "/aviary-prod/redis-url",
  redisUrlParameterArn: "arn:aws:ssm:us-east-1:123456789012:parameter/aviary-prod/redis-url",
  canaryP99Ms: 1500,
  redisUrlKeyArn: "arn:aws:kms:us-east-1:123456789012:key/redis-secrets",
};
