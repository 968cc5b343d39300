import * as aws from "@pulumi/aws";
import { runUnderMocks } from "../../../harness/pulumiMocks";
test("the mock harness records resources registered inside apply callbacks", async () => {
  const run = await runUnderMocks(() => {
    const t = new aws.sns.Topic("t", {});
    t.arn.apply((a) => new aws.sns.TopicSubscription("s", { topic: a, protocol: "email", endpoint: "a@b.co" }));
  });
  expect(run.ofType("aws:sns/topicSubscription:TopicSubscription")).toHaveLength(1);
});
