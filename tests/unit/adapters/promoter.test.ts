// The Promoter port's adapters: GitHub's workflow dispatch (fetch mocked at its boundary, no
// network), the token from SSM (SDK mocked), and local mode's hand-off.
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { dispatchRequest, GithubPromoter, WorkflowDispatchError } from "../../../adapters/promoter/github";
import { LocalPromoter } from "../../../adapters/promoter/local";
import { ssmSecureString } from "../../../adapters/promoter/ssmToken";
import { NotFoundError } from "../../../core/errors";
import { REPO_ROOT } from "../../support/repoRoot";

const target = { repository: "acme/aviary", ref: "main" };

function fakeFetch(status: number, body = ""): { fn: typeof fetch; calls: { url: string; init: RequestInit }[] } {
  const calls: { url: string; init: RequestInit }[] = [];
  const fn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    return new Response(status === 204 ? null : body, { status });
  }) as typeof fetch;
  return { fn, calls };
}

describe("GithubPromoter", () => {
  test("POSTs the promote workflow's dispatch with the ref, the version and the rollout, the token as a bearer token read at call time", async () => {
    const { fn, calls } = fakeFetch(204);
    let reads = 0;
    const promoter = new GithubPromoter(target, async () => `token-${++reads}`, fn);
    await promoter.promote("1.4.3", "1.4.3@2026-12-01T16:00:00.000Z");
    await promoter.promote("1.4.3", "1.4.3@2026-12-01T16:00:00.000Z");
    expect(calls).toHaveLength(2);
    expect(calls[0].url).toBe("https://api.github.com/repos/acme/aviary/actions/workflows/promote.yml/dispatches");
    expect(calls[0].init.method).toBe("POST");
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ ref: "main", inputs: { appVersion: "1.4.3", rolloutId: "1.4.3@2026-12-01T16:00:00.000Z" } });
    const headers = (i: number) => calls[i].init.headers as Record<string, string>;
    expect(headers(0)).toMatchObject({ Authorization: "Bearer token-1", Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" });
    expect(headers(1).Authorization).toBe("Bearer token-2");
  });

  test.each([
    [401, "invalid-config"],
    [403, "invalid-config"],
    [404, "invalid-config"],
    [422, "invalid-config"],
    [500, "unreachable"],
    [503, "unreachable"],
  ])("HTTP %i is a WorkflowDispatchError naming the status (code %s)", async (status, code) => {
    const { fn } = fakeFetch(status, JSON.stringify({ message: "Bad credentials" }));
    const err = await new GithubPromoter(target, async () => "secret-token", fn).promote("1.4.3", "r").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowDispatchError);
    expect((err as WorkflowDispatchError).status).toBe(status);
    expect((err as WorkflowDispatchError).code).toBe(code);
    expect((err as Error).message).toContain(`HTTP ${status}`);
    expect((err as Error).message).not.toContain("secret-token");
  });

  test("no answer at all is unreachable, without a status", async () => {
    const fn = (async () => { throw new TypeError("fetch failed"); }) as typeof fetch;
    const err = await new GithubPromoter(target, async () => "t", fn).promote("1.4.3", "r").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowDispatchError);
    expect((err as WorkflowDispatchError).status).toBeUndefined();
    expect((err as WorkflowDispatchError).code).toBe("unreachable");
  });

  test("the inputs sent are exactly the ones promote.yml declares, and the workflow refuses a canary running another version", () => {
    const workflow = parse(readFileSync(join(REPO_ROOT, ".github", "workflows", "promote.yml"), "utf8")) as {
      on: { workflow_dispatch: { inputs: Record<string, unknown> } };
      jobs: { promote: { steps: { id?: string; run?: string; env?: Record<string, string> }[] } };
    };
    const declared = Object.keys(workflow.on.workflow_dispatch.inputs).sort();
    expect(Object.keys(dispatchRequest(target, "1.4.3", "r").body.inputs).sort()).toEqual(declared);
    const merge = workflow.jobs.promote.steps.find((s) => s.id === "canary");
    expect(merge?.env?.EXPECTED_VERSION).toBe("${{ inputs.appVersion }}");
    const run = merge?.run ?? "";
    expect(run.indexOf('"$version" != "$EXPECTED_VERSION"')).toBeGreaterThan(run.indexOf("version=$(jq -r .appVersion canary.json)"));
    expect(run.indexOf('"$version" != "$EXPECTED_VERSION"')).toBeLessThan(run.indexOf("git merge --no-edit"));
  });
});

describe("ssmSecureString", () => {
  const ssm = mockClient(SSMClient);
  afterAll(() => ssm.restore());

  test("reads the parameter with decryption at each call", async () => {
    ssm.reset();
    ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: "one" } }).resolves({ Parameter: { Value: "two" } });
    const read = ssmSecureString(new SSMClient({ region: "us-east-1" }), "/aviary/prod/controller/promote-token");
    expect([await read(), await read()]).toEqual(["one", "two"]);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input)).toEqual([
      { Name: "/aviary/prod/controller/promote-token", WithDecryption: true },
      { Name: "/aviary/prod/controller/promote-token", WithDecryption: true },
    ]);
  });

  test("an empty parameter is NotFoundError", async () => {
    ssm.reset();
    ssm.on(GetParameterCommand).resolves({ Parameter: {} });
    await expect(ssmSecureString(new SSMClient({ region: "us-east-1" }), "/p")()).rejects.toBeInstanceOf(NotFoundError);
  });
});

test("LocalPromoter hands the version and rollout to the local stack", async () => {
  const moved: string[][] = [];
  await new LocalPromoter(async (v, id) => { moved.push([v, id]); }).promote("1.4.3", "r1");
  expect(moved).toEqual([["1.4.3", "r1"]]);
});
