// The provider's in-memory flag set: which flags each change names (CONFIGURATION_CHANGED), last
// good versions kept over garbage, PARSE_ERROR only without one, segments in the lookup.
import { ErrorCode, type EvaluationContext } from "@openfeature/server-sdk";
import { booleanFlag, storedFlagSchema, storedSegmentSchema, type FlagDefinitionInput, type StoredFlag, type StoredSegment } from "../../../core/flags/model";
import { FlagSet, type FullRead } from "../../../flags/flagSet";
import { answers, resolveSlot, type RequestedType } from "../../../flags/resolution";

const at = "2026-12-01T10:00:00.000Z";
function stored(def: FlagDefinitionInput, version = 1): StoredFlag {
  return storedFlagSchema.parse({ ...def, updatedBy: "t", updatedAt: at, version });
}
function segment(name: string, included: string[], version = 1): StoredSegment {
  return storedSegmentSchema.parse({ name, included, updatedBy: "t", updatedAt: at, version });
}
const inSegment = (key: string, seg: string): StoredFlag =>
  stored({ ...booleanFlag(key, "web"), rules: [{ match: "all", conditions: [{ op: "inSegment", segment: seg }], variant: "on" }] });
const read = (r: Partial<FullRead>): FullRead => ({ flags: [], invalidFlags: new Map(), segments: [], invalidSegments: [], ...r });

function resolve(set: FlagSet, key: string, ctx: EvaluationContext = {}): ReturnType<typeof resolveSlot<boolean>> {
  return resolveSlot(key, set.slot(key), "boolean", false, ctx, set.segmentLookup);
}

describe("FlagSet", () => {
  test("a full read names new, changed and removed flags, and the users of changed segments; an unchanged version is no change", () => {
    const set = new FlagSet();
    expect(set.replace(read({ flags: [stored(booleanFlag("a", "w")), inSegment("b", "s"), inSegment("c", "t")], segments: [segment("s", ["u1"]), segment("t", [])] }))).toEqual(["a", "b", "c"]);
    expect(set.replace(read({ flags: [stored(booleanFlag("a", "w")), inSegment("b", "s"), inSegment("c", "t")], segments: [segment("s", ["u1"]), segment("t", [])] }))).toEqual([]);
    expect(set.replace(read({ flags: [inSegment("b", "s"), inSegment("c", "t")], segments: [segment("s", ["u2"], 2), segment("t", [])] }))).toEqual(["a", "b"]);
    expect(resolve(set, "b", { targetingKey: "u2" })).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
  });

  test("garbage keeps the last good flag and segment; a garbage key never seen resolves to PARSE_ERROR with its problem", () => {
    const set = new FlagSet();
    set.replace(read({ flags: [inSegment("b", "s")], segments: [segment("s", ["u1"])] }));
    const changed = set.replace(read({ invalidFlags: new Map([["b", "x"], ["new", "aviary:flag:new: not JSON"]]), invalidSegments: ["s"] }));
    expect(changed).toEqual([]);
    expect(resolve(set, "b", { targetingKey: "u1" })).toMatchObject({ value: true, reason: "TARGETING_MATCH" });
    expect(resolve(set, "new")).toMatchObject({ value: false, reason: "ERROR", errorCode: ErrorCode.PARSE_ERROR, errorMessage: 'flag "new" is stored but cannot be read: aviary:flag:new: not JSON' });
    expect(set.markUnreadable("b", "y")).toBe(false);
    expect(set.markUnreadable("other", "y")).toBe(true);
    expect(set.putFlag(stored(booleanFlag("other", "w")))).toEqual(["other"]);
    expect(resolve(set, "other")).toMatchObject({ value: false, variant: "off" });
  });

  test("one segment changing names exactly the flags whose rules use it; removing it makes its rules match nobody", () => {
    const set = new FlagSet();
    set.replace(read({ flags: [inSegment("b", "s"), inSegment("c", "s"), inSegment("d", "t")], segments: [segment("s", ["u1"])] }));
    expect(set.putSegment(segment("s", ["u1"]))).toEqual([]); // same version
    expect(set.putSegment(segment("s", ["u9"], 2))).toEqual(["b", "c"]);
    expect(resolve(set, "c", { targetingKey: "u9" })).toMatchObject({ value: true });
    expect(set.removeSegment("s")).toEqual(["b", "c"]);
    expect(set.removeSegment("s")).toEqual([]);
    expect(resolve(set, "c", { targetingKey: "u9" })).toMatchObject({ value: false, reason: "DEFAULT" });
    expect(set.contents().segments).toEqual([]);
  });

  test("object variants are frozen, so one caller cannot change what the next one gets", () => {
    const set = new FlagSet();
    set.putFlag(stored({ key: "o", type: "object", enabled: true, variants: { v: { a: [{ b: 1 }] } }, defaultVariant: "v", owner: "w" }));
    const value = resolveSlot<unknown>("o", set.slot("o"), "object", {}, {}, set.segmentLookup).value as { a: { b: number }[] };
    expect(Object.isFrozen(value) && Object.isFrozen(value.a) && Object.isFrozen(value.a[0])).toBe(true);
  });
});

describe("answers: which flag types each SDK method serves", () => {
  const table: [RequestedType, string[]][] = [
    ["boolean", ["boolean"]],
    ["string", ["string"]],
    ["number", ["number", "integer"]],
    ["object", ["object"]],
  ];
  test.each(table)("%s answers %j", (requested, types) => {
    expect((["boolean", "string", "number", "integer", "object"] as const).filter((t) => answers(t, requested))).toEqual(types);
  });
});
