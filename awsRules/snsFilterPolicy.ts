// Which messages an SNS subscription's filter policy lets through, as Amazon SNS documents it.
// Written from the Amazon SNS Developer Guide:
//   message-filtering.html                    no policy: every message; body policies need a JSON body
//   sns-message-filtering-scope.html          FilterPolicyScope MessageAttributes (default) / MessageBody
//   sns-subscription-filter-policies.html     every policy key must match; ignored: keys not in the policy
//   subscription-filter-policy-constraints.html  attribute scope: no nesting; String, String.Array, Number
//   and-or-logic.html                         keys AND, values OR, "$or" (an array of at least two objects)
//   attribute-key-matching.html               "exists": true needs a non-null, non-empty value;
//                                             "exists": false only matches if at least one attribute is present
//   string-value-matching.html                exact, anything-but (values, prefix), equals-ignore-case,
//                                             prefix, suffix; String.Array: elements compared one by one
//   numeric-value-matching.html               numeric =, <, <=, >, >= (ranges); anything-but numbers
// A pure model for tests: it checks what the program's subscriptions would deliver, which Pulumi's
// mocks cannot. Unknown operators throw, so a policy SNS would reject is not silently "matched".

export type FilterPolicyScope = "MessageAttributes" | "MessageBody";

/** A message attribute as PublishCommand takes it (MessageAttributes: { name: { DataType, StringValue } }). */
export interface SnsAttribute {
  DataType: string;
  StringValue?: string;
}

export interface SnsMessage {
  body: string;
  attributes?: Record<string, SnsAttribute>;
}

export class InvalidFilterPolicyError extends Error {
  constructor(message: string) {
    super(`invalid SNS filter policy: ${message}`);
    this.name = "InvalidFilterPolicyError";
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Policy = { [key: string]: Json };
/** A flattened policy: path of keys -> the conditions array at that leaf. */
type FlatPolicy = { path: string[]; conditions: Json[] }[];

const isObject = (v: unknown): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v);

/** "$or" counts only as an array of at least two objects; otherwise it is an ordinary key. */
const isOr = (key: string, value: Json): value is Policy[] =>
  key === "$or" && Array.isArray(value) && value.length >= 2 && value.every(isObject);

/** Every alternative the policy allows, each a list of leaves that must all match. */
function flatten(policy: Policy, prefix: string[], nested: boolean): FlatPolicy[] {
  let alternatives: FlatPolicy[] = [[]];
  for (const [key, value] of Object.entries(policy)) {
    let options: FlatPolicy[];
    if (isOr(key, value)) options = value.flatMap((branch) => flatten(branch, prefix, nested));
    else if (Array.isArray(value)) options = [[{ path: [...prefix, key], conditions: value }]];
    else if (isObject(value)) {
      if (!nested) throw new InvalidFilterPolicyError(`"${key}" is nested; attribute-scope policies are flat`);
      options = flatten(value, [...prefix, key], nested);
    } else throw new InvalidFilterPolicyError(`"${key}" must map to an array of conditions`);
    alternatives = alternatives.flatMap((a) => options.map((o) => [...a, ...o]));
  }
  return alternatives;
}

/** Values at a body path; arrays (of values or of objects) count element by element. */
function bodyValues(body: Json, path: string[]): Json[] | undefined {
  let current: Json[] = [body];
  for (const key of path) {
    const next: Json[] = [];
    for (const node of current.flatMap((n) => (Array.isArray(n) ? n : [n]))) {
      if (isObject(node) && key in node) next.push(node[key]);
    }
    if (next.length === 0) return undefined;
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

/** Values of a message attribute by its data type; Binary attributes are never compared. */
function attributeValues(attribute: SnsAttribute): Json[] {
  const text = attribute.StringValue ?? "";
  if (attribute.DataType.startsWith("String.Array") || attribute.DataType.startsWith("Number.Array")) {
    try {
      const parsed = JSON.parse(text) as Json;
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  }
  if (attribute.DataType.startsWith("Number")) {
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) ? [n] : [];
  }
  if (attribute.DataType.startsWith("String")) return [text];
  return [];
}

const NUMERIC_OPS: Record<string, (a: number, b: number) => boolean> = {
  "=": (a, b) => a === b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

type NumericCheck = [(a: number, b: number) => boolean, number];

/** ["op", n, "op", n, ...] as checks; throws on anything SNS would reject. */
function numericChecks(spec: Json): NumericCheck[] {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0) throw new InvalidFilterPolicyError(`numeric needs [op, n, ...], got ${JSON.stringify(spec)}`);
  const checks: NumericCheck[] = [];
  for (let i = 0; i < spec.length; i += 2) {
    const op = NUMERIC_OPS[String(spec[i])];
    const bound = spec[i + 1];
    if (!op || typeof bound !== "number") throw new InvalidFilterPolicyError(`numeric operator ${JSON.stringify(spec[i])} ${JSON.stringify(bound)}`);
    checks.push([op, bound]);
  }
  return checks;
}

/**
 * anything-but over all the values of one key. Strings: no value may be listed (String.Array:
 * "matches if none of the array elements are listed"). Numbers: some value is not listed
 * (Number.Array "[100, 50]" matches anything-but [100, 500]). Prefix: no string starts with it.
 */
function anythingButMatches(spec: Json, values: Json[]): boolean {
  if (isObject(spec)) {
    const prefix = spec.prefix;
    if (Object.keys(spec).length !== 1 || typeof prefix !== "string") throw new InvalidFilterPolicyError(`anything-but supports values or {"prefix"}, got ${JSON.stringify(spec)}`);
    return values.length > 0 && values.every((v) => typeof v !== "string" || !v.startsWith(prefix));
  }
  const listed: Json[] = Array.isArray(spec) ? spec : [spec];
  if (listed.some((l) => typeof l !== "string" && typeof l !== "number")) throw new InvalidFilterPolicyError(`anything-but lists strings or numbers, got ${JSON.stringify(spec)}`);
  if (values.length === 0) return false;
  const numbers = listed.every((l) => typeof l === "number");
  if (numbers) return values.some((v) => !listed.some((l) => l === v));
  return values.every((v) => !listed.some((l) => l === v));
}

/** One condition of a leaf against the key's values (present: the key exists in the message). */
function conditionMatches(condition: Json, values: Json[]): boolean {
  if (!isObject(condition)) return values.some((v) => v === condition);
  const entries = Object.entries(condition);
  if (entries.length !== 1) throw new InvalidFilterPolicyError(`a condition has one operator, got ${JSON.stringify(condition)}`);
  const [op, spec] = entries[0];
  const strings = values.filter((v): v is string => typeof v === "string");
  switch (op) {
    case "prefix":
      if (typeof spec !== "string") throw new InvalidFilterPolicyError(`prefix needs a string`);
      return strings.some((v) => v.startsWith(spec));
    case "suffix":
      if (typeof spec !== "string") throw new InvalidFilterPolicyError(`suffix needs a string`);
      return strings.some((v) => v.endsWith(spec));
    case "equals-ignore-case":
      if (typeof spec !== "string") throw new InvalidFilterPolicyError(`equals-ignore-case needs a string`);
      return strings.some((v) => v.toLowerCase() === spec.toLowerCase());
    case "anything-but":
      return anythingButMatches(spec, values);
    case "numeric": {
      const checks = numericChecks(spec);
      return values.some((v) => typeof v === "number" && checks.every(([test, bound]) => test(v, bound)));
    }
    default:
      throw new InvalidFilterPolicyError(`unknown operator ${op}`);
  }
}

/** A leaf: the key's conditions OR'ed; `exists` looks only at whether the key is there. */
function leafMatches(conditions: Json[], values: Json[] | undefined, absentMayMatch: boolean): boolean {
  return conditions.some((c) => {
    if (isObject(c) && "exists" in c) {
      if (typeof c.exists !== "boolean" || Object.keys(c).length !== 1) throw new InvalidFilterPolicyError(`exists takes true or false`);
      if (c.exists) return values !== undefined && values.some((v) => v !== null && v !== "");
      return values === undefined && absentMayMatch;
    }
    return values !== undefined && conditionMatches(c, values);
  });
}

function parsePolicy(policy: string): Policy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch (e) {
    throw new InvalidFilterPolicyError(`not JSON (${(e as Error).message})`);
  }
  if (!isObject(parsed)) throw new InvalidFilterPolicyError("not a JSON object");
  return parsed;
}

/**
 * True if a subscription with this FilterPolicy and FilterPolicyScope receives the message.
 * No policy (or `{}`, how a policy is removed) receives everything.
 */
export function filterPolicyMatches(policy: string | undefined, scope: FilterPolicyScope | undefined, message: SnsMessage): boolean {
  if (policy === undefined || policy.trim() === "") return true;
  const parsed = parsePolicy(policy);
  if (Object.keys(parsed).length === 0) return true;

  if ((scope ?? "MessageAttributes") === "MessageAttributes") {
    const attributes = message.attributes ?? {};
    const anyAttribute = Object.keys(attributes).length > 0;
    return flatten(parsed, [], false).some((alt) =>
      alt.every(({ path: [name], conditions }) => {
        const attribute = attributes[name];
        return leafMatches(conditions, attribute ? attributeValues(attribute) : undefined, anyAttribute);
      }));
  }

  // MessageBody: "filter policies for the message body assume that the message payload is a
  // well-formed JSON object"; anything else matches no body policy.
  let body: Json;
  try {
    body = JSON.parse(message.body) as Json;
  } catch {
    return false;
  }
  if (!isObject(body)) return false;
  return flatten(parsed, [], true).some((alt) => alt.every(({ path, conditions }) => leafMatches(conditions, bodyValues(body, path), true)));
}
