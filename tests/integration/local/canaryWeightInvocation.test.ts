// The canary weight reaches the controller the same way on AWS and in local mode: the canary
// stack's aws.lambda.Invocation input and local mode's start-time call are one invocation.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import type { ConfigInvocation, Handler, SnsEvent } from "../../../lambda/handler";
import { parseConfigInvocation } from "../../../lambda/alarmMessage";
import { applyCanaryConfig } from "../../../local/applyCanaryConfig";
import { DEFAULT_PERIOD_FACTOR, loadLocalConfig } from "../../../local/config";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";
import { runUnderMocks } from "../../../harness/pulumiMocks";
import { useRedis } from "../../support/useRedis";

const ROOT = join(REPO_ROOT);
const db = useRedis();

/** A controller that records what it is handed. */
function recordingController(): { controller: Handler; received: (SnsEvent | ConfigInvocation)[] } {
  const received: (SnsEvent | ConfigInvocation)[] = [];
  return { received, controller: async (event) => (received.push(event), { processed: 1, skipped: 0, outcomes: [] }) };
}

test("local mode hands the controller exactly the invocation the canary stack's aws.lambda.Invocation sends", async () => {
  const config = readStackFile(join(ROOT, "Pulumi.canary.yaml"));
  const run = await runUnderMocks(() => require("../../../index"), { stack: "canary", config, stackReferenceOutputs: PROD_STACK_OUTPUTS });
  const input = run.one("aws:lambda/invocation:Invocation").inputs.input as string;
  // With lifecycleScope "CRUD" a changed input is an update invocation (the weight set again, the
  // canary re-enabled): the text the stacks already deployed with must not change, key order included.
  expect(input).toBe(`{"action":"setCanaryWeight","weight":${Number(config["aviary:canaryWeight"])},"appVersion":"${config["aviary:appVersion"]}"}`);
  const awsInput: unknown = JSON.parse(input);

  const { controller, received } = recordingController();
  await applyCanaryConfig(controller, db.redis, loadLocalConfig(ROOT).canary, undefined, DEFAULT_PERIOD_FACTOR);

  expect(received).toEqual([awsInput]);
  // And it is one the controller accepts.
  expect(parseConfigInvocation(received[0])).toEqual(awsInput);
}, 120_000);
