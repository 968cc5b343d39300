// The canary stack with aviary:rollout: its controller invocation (aws.lambda.Invocation, CRUD)
// starts the rollout instead of setting the fixed weight, as an in-place update, and `pulumi
// destroy` still sends the delete that drains the canary. Each payload is one the Lambda accepts.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import { parseConfigInvocation } from "../../../lambda/alarmMessage";
import { planChange, planDestroy } from "../../support/changeImpact";
import { PROD_STACK_OUTPUTS } from "../../../harness/prodOutputs";

jest.setTimeout(180_000);

const canary = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
const side = (config: Record<string, string>) => ({ stack: "canary", config, stackReferenceOutputs: PROD_STACK_OUTPUTS });
const WEIGHT = "aws:lambda/invocation:Invocation::canary-weight";
const rollout = { steps: [{ weight: 25, pauseSeconds: 120 }, { weight: 50, pauseSeconds: 300 }], autoPromote: true };
const withRollout = { ...canary, "aviary:rollout": JSON.stringify(rollout) };

test("adding aviary:rollout replaces nothing and sends the controller one startRollout update with the plan", async () => {
  const plan = await planChange(side(canary), side(withRollout));
  expect({ created: plan.created, deleted: plan.deleted, replaced: plan.replaced }).toEqual({ created: [], deleted: [], replaced: [] });
  expect(plan.updated).toEqual([WEIGHT]);
  const [sent] = plan.invocations[WEIGHT];
  expect(sent.action).toBe("update");
  expect(sent.payload).toMatchObject({
    action: "startRollout",
    appVersion: "1.5.0-rc.1",
    plan: { steps: rollout.steps, autoPromote: true, analysis: expect.objectContaining({ alpha: expect.any(Number) }) },
    tf: { action: "update", prev_input: { action: "setCanaryWeight", weight: 25 } },
  });
  expect(parseConfigInvocation(sent.payload).action).toBe("startRollout");
});

test("a new appVersion with a rollout is one update that starts the new version's rollout", async () => {
  const plan = await planChange(side(withRollout), side({ ...withRollout, "aviary:appVersion": "1.5.0-rc.2" }));
  expect(plan.invocations[WEIGHT].map((i) => [i.action, i.payload.action, i.payload.appVersion])).toEqual([["update", "startRollout", "1.5.0-rc.2"]]);
});

test("pulumi destroy with a rollout still sends one delete, which the Lambda takes as the drain", async () => {
  const sent = await planDestroy(side(withRollout));
  expect(sent[WEIGHT].map((i) => [i.action, i.payload.action])).toEqual([["delete", "startRollout"]]);
  expect(parseConfigInvocation(sent[WEIGHT][0].payload)).toMatchObject({ action: "startRollout", tf: { action: "delete" } });
});
