// The SNS filter-policy model (awsRules/snsFilterPolicy.ts), rule by rule, with the examples of
// the Amazon SNS Developer Guide pages it cites.
import { filterPolicyMatches, InvalidFilterPolicyError, type FilterPolicyScope, type SnsAttribute } from "../../../awsRules/snsFilterPolicy";

const str = (StringValue: string): SnsAttribute => ({ DataType: "String", StringValue });
const strs = (values: unknown[]): SnsAttribute => ({ DataType: "String.Array", StringValue: JSON.stringify(values) });
const num = (n: number | string): SnsAttribute => ({ DataType: "Number", StringValue: String(n) });

type AttributeCase = [string, object, Record<string, SnsAttribute>, boolean];
type BodyCase = [string, object, unknown, boolean];

const attributeCases: AttributeCase[] = [
  ["exact string", { customer_interests: ["rugby", "tennis"] }, { customer_interests: str("rugby") }, true],
  ["exact string, other value", { customer_interests: ["rugby", "tennis"] }, { customer_interests: str("baseball") }, false],
  ["exact string, String.Array element", { customer_interests: ["rugby"] }, { customer_interests: strs(["rugby", "tennis"]) }, true],
  ["exact string, String.Array without it", { customer_interests: ["rugby"] }, { customer_interests: strs(["baseball"]) }, false],
  ["string matching is case-sensitive", { store: ["Fans"] }, { store: str("fans") }, false],
  ["key absent from the message", { store: ["fans"] }, { other: str("fans") }, false],
  ["keys AND: one fails", { store: ["fans"], price_usd: [{ numeric: [">", 100] }] }, { store: str("fans"), price_usd: num(50) }, false],
  ["keys AND: both hold", { store: ["fans"], price_usd: [{ numeric: [">", 100] }] }, { store: str("fans"), price_usd: num(150) }, true],
  ["exists true", { store: [{ exists: true }] }, { store: str("fans") }, true],
  ["exists true, key absent", { store: [{ exists: true }] }, { other: str("x") }, false],
  ["exists false, other attribute present", { store: [{ exists: false }] }, { other: str("x") }, true],
  ["exists false, key present", { store: [{ exists: false }] }, { store: str("fans") }, false],
  ["exists false, no attributes at all (the CloudWatch alarm case)", { origin: [{ exists: false }] }, {}, false],
  ["prefix", { customer_interests: [{ prefix: "bas" }] }, { customer_interests: str("baseball") }, true],
  ["prefix, no match", { customer_interests: [{ prefix: "bas" }] }, { customer_interests: str("rugby") }, false],
  ["suffix", { customer_interests: [{ suffix: "ball" }] }, { customer_interests: str("baseball") }, true],
  ["suffix, no match", { customer_interests: [{ suffix: "ball" }] }, { customer_interests: str("rugby") }, false],
  ["equals-ignore-case", { customer_interests: [{ "equals-ignore-case": "TENNIS" }] }, { customer_interests: str("tennis") }, true],
  ["anything-but value", { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] }, { customer_interests: str("baseball") }, true],
  ["anything-but value, listed", { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] }, { customer_interests: str("rugby") }, false],
  ["anything-but, String.Array with a listed element", { customer_interests: [{ "anything-but": ["rugby", "tennis"] }] }, { customer_interests: strs(["rugby", "baseball"]) }, false],
  ["anything-but, key absent", { customer_interests: [{ "anything-but": ["rugby"] }] }, { other: str("x") }, false],
  ["anything-but or exists false, key absent", { customer_interests: [{ "anything-but": ["rugby"] }, { exists: false }] }, { other: str("x") }, true],
  ["anything-but prefix", { customer_interests: [{ "anything-but": { prefix: "bas" } }] }, { customer_interests: str("rugby") }, true],
  ["anything-but prefix, starts with it", { customer_interests: [{ "anything-but": { prefix: "bas" } }] }, { customer_interests: str("baseball") }, false],
  ["anything-but numbers", { price: [{ "anything-but": [100, 500] }] }, { price: num(101) }, true],
  ["anything-but numbers, listed", { price: [{ "anything-but": [100, 500] }] }, { price: num(100) }, false],
  ["anything-but numbers, Number.Array with an unlisted value", { price: [{ "anything-but": [100, 500] }] }, { price: { DataType: "Number.Array", StringValue: "[100, 50]" } }, true],
  ["numeric =", { price_usd: [{ numeric: ["=", 301.5] }] }, { price_usd: num("3.015e2") }, true],
  ["numeric range inside", { price_usd: [{ numeric: [">", 0, "<=", 150] }] }, { price_usd: num(150) }, true],
  ["numeric range outside", { price_usd: [{ numeric: [">", 0, "<=", 150] }] }, { price_usd: num(151) }, false],
  ["numeric on a String attribute", { price_usd: [{ numeric: [">", 0] }] }, { price_usd: str("5") }, false],
  ["numeric, negative", { price_usd: [{ numeric: ["<", 0] }] }, { price_usd: num(-1) }, true],
  ["plain number", { price: [100] }, { price: num(100) }, true],
  ["values OR", { customer_interests: ["rugby", { prefix: "foot" }] }, { customer_interests: str("football") }, true],
  ["$or: second branch", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] }, { source: str("aws.cloudwatch"), namespace: str("AWS/EC2") }, true],
  ["$or: neither branch", { source: ["aws.cloudwatch"], $or: [{ metricName: ["CPUUtilization"] }, { namespace: ["AWS/EC2"] }] }, { source: str("aws.cloudwatch"), namespace: str("AWS/ES") }, false],
  ["$or with one object is an ordinary key", { $or: [{ a: ["x"] }] }, { a: str("x") }, false],
  ["Binary attributes are not compared", { blob: ["x"] }, { blob: { DataType: "Binary", StringValue: "x" } }, false],
];

const bodyCases: BodyCase[] = [
  ["exact string", { customer_interests: ["rugby"] }, { customer_interests: "rugby" }, true],
  ["exact string, array element", { customer_interests: ["rugby"] }, { customer_interests: ["baseball", "rugby"] }, true],
  ["nested key", { store: { name: [{ prefix: "fan" }] } }, { store: { name: "fans" } }, true],
  ["nested key, other value", { store: { name: [{ prefix: "fan" }] } }, { store: { name: "shop" } }, false],
  ["nested key under an array of objects", { items: { sku: ["b"] } }, { items: [{ sku: "a" }, { sku: "b" }] }, true],
  ["exists false, key absent (no attribute rule in a body)", { store: [{ exists: false }] }, { customer_interests: ["baseball"] }, true],
  ["exists false, key present", { store: [{ exists: false }] }, { store: "fans" }, false],
  ["exists true, null value", { store: [{ exists: true }] }, { store: null }, false],
  ["null matches null", { store: [null] }, { store: null }, true],
  ["numeric range", { Trigger: { Period: [{ numeric: [">=", 60] }] } }, { Trigger: { Period: 60 } }, true],
  ["numeric on a string", { Trigger: { Period: [{ numeric: [">=", 60] }] } }, { Trigger: { Period: "60" } }, false],
  ["anything-but prefix", { AlarmName: [{ "anything-but": { prefix: "other-" } }] }, { AlarmName: "aviary-prod-x" }, true],
  ["$or over nested keys", { $or: [{ a: { b: ["x"] } }, { c: ["y"] }] }, { c: "y" }, true],
  ["a JSON array body is not an object", { a: ["x"] }, [{ a: "x" }], false],
];

describe("attribute scope (MessageAttributes)", () => {
  test.each(attributeCases)("%s", (_name, policy, attributes, expected) => {
    expect(filterPolicyMatches(JSON.stringify(policy), "MessageAttributes", { body: "anything", attributes })).toBe(expected);
  });
  test("is the default scope", () => {
    expect(filterPolicyMatches(JSON.stringify({ store: ["fans"] }), undefined, { body: "{}", attributes: { store: str("fans") } })).toBe(true);
  });
  test("rejects nested policies", () => {
    expect(() => filterPolicyMatches(JSON.stringify({ a: { b: ["x"] } }), "MessageAttributes", { body: "" })).toThrow(InvalidFilterPolicyError);
  });
});

describe("body scope (MessageBody)", () => {
  test.each(bodyCases)("%s", (_name, policy, body, expected) => {
    expect(filterPolicyMatches(JSON.stringify(policy), "MessageBody", { body: JSON.stringify(body) })).toBe(expected);
  });
  test("a body that is not JSON matches no body policy, whatever its attributes", () => {
    const policy = JSON.stringify({ store: [{ exists: false }] });
    expect(filterPolicyMatches(policy, "MessageBody", { body: "The controller set the canary weight to 5%.", attributes: { x: str("y") } })).toBe(false);
  });
  test("ignores attributes", () => {
    expect(filterPolicyMatches(JSON.stringify({ store: ["fans"] }), "MessageBody", { body: "{}", attributes: { store: str("fans") } })).toBe(false);
  });
});

describe("no policy", () => {
  test.each([undefined, "", "{}"])("%p receives everything, in either scope", (policy) => {
    for (const scope of ["MessageAttributes", "MessageBody"] as FilterPolicyScope[]) {
      expect(filterPolicyMatches(policy, scope, { body: "not json" })).toBe(true);
    }
  });
});

describe("policies SNS would reject throw instead of matching", () => {
  test.each([
    ["not JSON", "{"],
    ["unknown operator", JSON.stringify({ a: [{ wildcard: "x*" }] })],
    ["anything-but suffix", JSON.stringify({ a: [{ "anything-but": { suffix: "x" } }] })],
    ["bad numeric operator", JSON.stringify({ a: [{ numeric: ["!=", 1] }] })],
    ["exists not boolean", JSON.stringify({ a: [{ exists: "yes" }] })],
    ["value not an array", JSON.stringify({ a: "x" })],
  ])("%s", (_name, policy) => {
    expect(() => filterPolicyMatches(policy, "MessageBody", { body: JSON.stringify({ a: "x" }) })).toThrow(InvalidFilterPolicyError);
  });
});
