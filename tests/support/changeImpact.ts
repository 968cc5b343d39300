// Change impact: what `pulumi up` would do after a user-facing change. Runs the real program under
// mocks before and after, diffs each resource's inputs with the provider's replace-on-change rules
// (awsRules/replacement.ts), and propagates replacements: a replaced resource hands its dependents
// new ids/addresses (all-new outputs for delete-before-replace, as Pulumi plans those), which is
// re-run until nothing more is replaced. Also says what Lambda Invocations send the function.
import { diffResource, invocationsOf, ruleFor, type Diff, type InvocationPayload } from "../../awsRules/replacement";
import { runUnderMocks, type MockOptions, type MockRun, type Registered } from "../../harness/pulumiMocks";

export interface ChangePlan {
  created: string[];
  deleted: string[];
  updated: string[];
  replaced: string[];
  /** urn → its diff, for every resource that is updated or replaced. */
  diffs: Record<string, Diff>;
  /** urns replaced delete-before-replace (the old one goes first). */
  deletedFirst: string[];
  /** What each Invocation's function receives, in order, by urn. */
  invocations: Record<string, InvocationPayload[]>;
  /** The resources as the changed program registers them (ids of replaced ones end in ~new). */
  after: Registered[];
}

/** Component resources (aviary:*) have no provider and no inputs of their own. */
const isCustom = (r: Registered) => !r.type.startsWith("aviary:");

/** One side of a change: its mock options, what to run (default: the real index.ts) and a setup (e.g. jest.doMock). */
export interface Side extends MockOptions {
  program?: () => unknown;
  setup?: () => void;
}

async function runProgram(opts: Side): Promise<MockRun<unknown>> {
  let run: MockRun<unknown> | undefined;
  opts.setup?.();
  await jest.isolateModulesAsync(async () => {
    run = await runUnderMocks(opts.program ?? (() => require("../../index")), { ...opts, recordOptions: true, renewed: (type) => ruleFor(type).renewed ?? [] });
  });
  if (!run) throw new Error("program did not run");
  return run;
}

function plan(before: MockRun<unknown>, after: MockRun<unknown>): ChangePlan {
  const old = new Map(before.resources.filter(isCustom).map((r) => [r.urn, r]));
  const now = new Map(after.resources.filter(isCustom).map((r) => [r.urn, r]));
  const result: ChangePlan = { created: [], deleted: [], updated: [], replaced: [], diffs: {}, deletedFirst: [], invocations: {}, after: after.resources };
  const isInvocation = (urn: string) => urn.startsWith("aws:lambda/invocation:Invocation::");
  for (const [urn, r] of now) {
    const prev = old.get(urn);
    if (!prev) {
      result.created.push(urn);
      if (isInvocation(urn)) result.invocations[urn] = invocationsOf("create", undefined, r.inputs);
      continue;
    }
    const diff = diffResource(r.type, prev.inputs, r.inputs, r.options ?? {});
    if (diff.step === "same") continue;
    result.diffs[urn] = diff;
    (diff.step === "replace" ? result.replaced : result.updated).push(urn);
    const dbr = diff.step === "replace" && r.options?.deleteBeforeReplace === true;
    if (dbr) result.deletedFirst.push(urn);
    if (isInvocation(urn)) result.invocations[urn] = invocationsOf(diff.step, prev.inputs, r.inputs, dbr);
  }
  for (const [urn, r] of old) {
    if (now.has(urn)) continue;
    result.deleted.push(urn);
    if (isInvocation(urn)) result.invocations[urn] = invocationsOf("delete", r.inputs, undefined);
  }
  for (const list of [result.created, result.deleted, result.updated, result.replaced, result.deletedFirst]) list.sort();
  return result;
}

/** Plans the change from `before` to `after` (full mock options of each run, e.g. two stack configs). */
export async function planChange(before: Side, after: Side): Promise<ChangePlan> {
  const first = await runProgram(before);
  let replaced = new Map<string, "renewed" | "all">();
  for (let round = 0; round < 10; round++) {
    const next = plan(first, await runProgram({ ...after, replaced }));
    const found = new Map(next.replaced.map((urn) => [urn, next.deletedFirst.includes(urn) ? "all" as const : "renewed" as const]));
    if ([...found.keys()].every((u) => replaced.has(u)) && found.size === replaced.size) return next;
    replaced = found;
  }
  throw new Error("replacements did not settle in 10 rounds");
}

/** `pulumi destroy`: every resource deleted; what the Invocations send then. */
export async function planDestroy(opts: Side): Promise<Record<string, InvocationPayload[]>> {
  const run = await runProgram(opts);
  return Object.fromEntries(run.ofType("aws:lambda/invocation:Invocation").map((r) => [r.urn, invocationsOf("delete", r.inputs, undefined)]));
}
