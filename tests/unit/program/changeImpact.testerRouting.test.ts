// What `pulumi up -s prod` does when aviary:proxy.testerRouting is turned on: the rules live in the
// proxy's boot script (haproxy.cfg), which runs only at first boot, so the proxy must be new.
import { REPO_ROOT } from "../../support/repoRoot";
import { join } from "node:path";
import { readStackFile } from "../../../config/stackFile";
import { planChange } from "../../support/changeImpact";

jest.setTimeout(180_000);

const prod = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const withProxy = (fields: Record<string, unknown>) => ({ stack: "prod", config: { ...prod, "aviary:proxy": JSON.stringify(fields) } });

test("one proxy: turning testerRouting on replaces the proxy instance (its Elastic IP moves over) and nothing else", async () => {
  const plan = await planChange(withProxy({ count: 1 }), withProxy({ count: 1, testerRouting: true }));
  expect({ created: plan.created, deleted: plan.deleted, replaced: plan.replaced }).toEqual({
    created: [], deleted: [], replaced: ["aws:ec2/instance:Instance::proxy", "command:local:Command::proxy-smoke-check"],
  });
  expect(plan.diffs["aws:ec2/eip:Eip::proxy"]).toMatchObject({ step: "update", changed: ["instance"] });
});

test("a proxy fleet: a new launch template version (the group's instance refresh rolls it), nothing replaced", async () => {
  const plan = await planChange(withProxy({ count: 2 }), withProxy({ count: 2, testerRouting: true }));
  expect(plan.replaced).toEqual([]);
  expect(plan.updated).toContain("aws:ec2/launchTemplate:LaunchTemplate::proxy");
  expect(plan.diffs["aws:ec2/launchTemplate:LaunchTemplate::proxy"]).toMatchObject({ step: "update", changed: ["userData"] });
});
