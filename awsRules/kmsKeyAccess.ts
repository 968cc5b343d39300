// Whether a principal of the key's own account may call a KMS action on a key, given the key policy
// and the principal's IAM policies. Written from the AWS KMS Developer Guide, "Key policies in AWS
// KMS" and "Default key policy" (a key policy statement whose principal is the account, i.e.
// arn:aws:iam::<account>:root, only lets IAM policies grant access: the principal's IAM policy must
// allow too; a statement naming the principal itself is enough on its own) and the IAM User Guide,
// "Policy evaluation logic" and "IAM JSON policy elements: Condition operators" (an explicit Deny wins;
// every operator and key of a Condition block must match; a key with several values matches when any
// value does; a missing key does not match). Only the operators Aviary's policies use are modelled;
// any other one is refused rather than guessed.

export interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}

export interface KmsRequest {
  action: string;
  keyArn: string;
  /** The calling role or user (aws:PrincipalArn: a role's ARN, with its path, not the session's). */
  principalArn: string;
  /** The key's (and the caller's) account. */
  account: string;
  /** Other request keys, e.g. kms:ViaService, kms:EncryptionContext:PARAMETER_ARN. */
  context: Record<string, string>;
}

export class UnsupportedConditionError extends Error {
  constructor(operator: string) {
    super(`kmsKeyAccess: condition operator ${operator} is not modelled`);
    this.name = "UnsupportedConditionError";
  }
}

const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM wildcard match: `*` any run of characters, `?` one character. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
}

function conditionMatches(condition: Statement["Condition"], ctx: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    const test = (expected: string, actual: string): boolean => {
      switch (operator) {
        case "StringEquals":
        case "ArnEquals":
          return expected === actual;
        case "StringLike":
        case "ArnLike":
          return globMatches(expected, actual);
        default:
          throw new UnsupportedConditionError(operator);
      }
    };
    for (const [key, expected] of Object.entries(keys)) {
      const actual = ctx[key];
      if (actual === undefined || !list(expected).some((e) => test(e, actual))) return false;
    }
  }
  return true;
}

type PrincipalMatch = "none" | "direct" | "account";

function principalMatch(principal: Statement["Principal"], req: KmsRequest): PrincipalMatch {
  if (principal === "*") return "direct";
  const aws = list(principal?.AWS);
  if (aws.includes("*") || aws.includes(req.principalArn)) return "direct";
  if (aws.some((p) => p === req.account || /^arn:[^:]+:iam::(\d+):root$/.exec(p)?.[1] === req.account)) return "account";
  return "none";
}

function applies(s: Statement, action: string, resource: string, ctx: Record<string, string>): boolean {
  if (!list(s.Action).some((a) => globMatches(a, action, true))) return false;
  if (!list(s.Resource).some((r) => globMatches(r, resource))) return false;
  return conditionMatches(s.Condition, ctx);
}

/** true when identity policies alone allow `action` on `resource` (no explicit Deny, one Allow). */
export function iamAllows(iamPolicies: PolicyDocument[], action: string, resource: string, context: Record<string, string> = {}): boolean {
  const matching = iamPolicies.flatMap((p) => p.Statement).filter((s) => applies(s, action, resource, context));
  return !matching.some((s) => s.Effect === "Deny") && matching.some((s) => s.Effect === "Allow");
}

/** true when the request is allowed. */
export function kmsAllows(keyPolicy: PolicyDocument, iamPolicies: PolicyDocument[], req: KmsRequest): boolean {
  const ctx = { ...req.context, "aws:PrincipalArn": req.principalArn, "kms:CallerAccount": req.account };
  // In a key policy, Resource "*" is the key the policy is attached to.
  const keyStatements = keyPolicy.Statement.filter((s) => principalMatch(s.Principal, req) !== "none" && applies(s, req.action, "*", ctx));
  const iamStatements = iamPolicies.flatMap((p) => p.Statement).filter((s) => applies(s, req.action, req.keyArn, ctx));
  if ([...keyStatements, ...iamStatements].some((s) => s.Effect === "Deny")) return false;
  const keyAllows = keyStatements.filter((s) => s.Effect === "Allow");
  if (keyAllows.some((s) => principalMatch(s.Principal, req) === "direct")) return true;
  return keyAllows.length > 0 && iamStatements.some((s) => s.Effect === "Allow");
}
