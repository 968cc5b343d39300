// Runs the CrossGuard policies in-process over recorded resources (e.g. from runUnderMocks), building
// the same ResourceValidationArgs the policy server builds (see @pulumi/policy server.js), so that
// validateResourceOfType's isType/notApplicable behave as under `pulumi preview --policy-pack`.
import { ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { policies as aviaryPolicies, stackPolicies as aviaryStackPolicies } from "./policies";

export interface CheckedResource {
  type: string;
  name: string;
  urn: string;
  inputs: Record<string, unknown>;
}

export interface Violation {
  policy: string;
  resource: string;
  message: string;
}

class NotApplicable extends Error {}

function pulumiTypeOf(resourceClass: unknown): string | undefined {
  const t = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof t === "string" && t.length > 0 ? t : undefined;
}

/** Same rule as the policy server's isTypeOf: static __pulumiType, else isInstance. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const pulumiType = pulumiTypeOf(resourceClass);
  if (pulumiType) return type === pulumiType;
  const isInstance = (resourceClass as { isInstance?: unknown }).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function argsFor(r: CheckedResource): ResourceValidationArgs {
  const props = r.inputs as Record<string, any>;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props,
    opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
    stackTags: new Map<string, string>(),
    isType: (resourceClass) => isTypeOf(r.type, resourceClass),
    asType: ((resourceClass: unknown) => (isTypeOf(r.type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "Policy does not apply");
    },
  };
}

type Outcome = { kind: "sync" } | { kind: "async"; policy: string; pending: Promise<void> };

function* runAll(resources: CheckedResource[], policies: ResourceValidationPolicy[], violations: Violation[]): Generator<Outcome> {
  for (const r of resources) {
    for (const p of policies) {
      if (p.enforcementLevel === "disabled" || !p.validateResource) continue;
      const validations: ResourceValidation[] = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
      for (const validate of validations) {
        // Fast path like the server's: a validation tagged with a Pulumi type only applies to that type.
        const only = pulumiTypeOf(validate);
        if (only && only !== r.type) continue;
        try {
          const result = validate(argsFor(r), (message: string) => {
            violations.push({ policy: p.name, resource: r.name, message });
          });
          if (result && typeof (result as Promise<void>).then === "function") {
            yield { kind: "async", policy: p.name, pending: (result as Promise<void>).catch((e) => { if (!(e instanceof NotApplicable)) throw e; }) };
          } else {
            yield { kind: "sync" };
          }
        } catch (e) {
          if (e instanceof NotApplicable) continue;
          throw e;
        }
      }
    }
  }
}

/**
 * Runs every (non-disabled) policy's validateResource over every resource, synchronously.
 * Aviary's policies are synchronous; an async one is reported rather than silently skipped.
 */
export function checkPolicies(resources: CheckedResource[], policies: ResourceValidationPolicy[] = aviaryPolicies): Violation[] {
  const violations: Violation[] = [];
  for (const outcome of runAll(resources, policies, violations)) {
    if (outcome.kind === "async") {
      throw new Error(`policy ${outcome.policy} returned a promise; checkPolicies only runs synchronous policies`);
    }
  }
  return violations;
}

/** The same, awaiting policies that return a promise (some of awsguard's do). */
export async function checkPoliciesAsync(resources: CheckedResource[], policies: ResourceValidationPolicy[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  const pending: Promise<void>[] = [];
  for (const outcome of runAll(resources, policies, violations)) if (outcome.kind === "async") pending.push(outcome.pending);
  await Promise.all(pending);
  return violations;
}

/**
 * Runs stack policies (validateStack) over the resources; `inputs` stand for the props the policy
 * server passes, so a caller adds the outputs a rule relates resources by (e.g. each resource's arn).
 */
export function checkStackPolicies(resources: CheckedResource[], policies: StackValidationPolicy[] = aviaryStackPolicies): Violation[] {
  const violations: Violation[] = [];
  const policyResources = resources.map((r) => {
    const a = argsFor(r);
    return { type: a.type, name: a.name, urn: a.urn, props: a.props, opts: a.opts, isType: a.isType, asType: a.asType, dependencies: [], propertyDependencies: {} };
  });
  for (const p of policies) {
    if (p.enforcementLevel === "disabled") continue;
    const result = p.validateStack(
      { resources: policyResources, getConfig: <T extends object>() => ({}) as T } as unknown as StackValidationArgs,
      (message: string, urn?: string) => violations.push({ policy: p.name, resource: urn ?? "(stack)", message }),
    );
    if (result && typeof (result as Promise<void>).then === "function") throw new Error(`stack policy ${p.name} returned a promise`);
  }
  return violations;
}
