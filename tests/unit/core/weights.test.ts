import { computeWeights, MAX_WEIGHT, serverWeights, type SlotAssignment, type WeightBackend } from "../../../core/routing/weights";

const slots = { prod: 6, canary: 3 };

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function fleet(p: number, c: number): WeightBackend[] {
  const out: WeightBackend[] = [];
  // Reverse order on purpose: assignment must sort by id.
  for (let i = p; i >= 1; i--) out.push({ id: `p${i}`, role: "prod", address: `10.0.0.${i}:8080` });
  for (let i = c; i >= 1; i--) out.push({ id: `c${i}`, role: "canary", address: `10.0.1.${i}:8080` });
  return out;
}

/** Canary share in percent implied by HAProxy round-robin over ready servers. */
function canaryShare(a: SlotAssignment[]): number {
  const live = a.filter((s) => s.state === "ready");
  const total = live.reduce((n, s) => n + s.weight, 0);
  const canary = live.filter((s) => s.slot.startsWith("canary")).reduce((n, s) => n + s.weight, 0);
  return total === 0 ? NaN : (100 * canary) / total;
}

describe("computeWeights", () => {
  const cases: [number, number, number][] = [];
  for (let p = 1; p <= 5; p++) for (let c = 1; c <= 2; c++) for (const w of [0, 1, 10, 25, 50, 75, 99, 100]) cases.push([p, c, w]);

  test.each(cases)("P=%i C=%i w=%i: canary share exact when the reduced pair fits 1..256, else < 1 point", (p, c, w) => {
    const a = computeWeights({ canaryWeight: w, canaryEnabled: true }, fleet(p, c), slots);
    const g = gcd((100 - w) * c, w * p);
    const fits = w === 0 || w === 100 || (((100 - w) * c) / g <= MAX_WEIGHT && (w * p) / g <= MAX_WEIGHT);
    if (fits) expect(canaryShare(a)).toBeCloseTo(w, 9);
    else expect(Math.abs(canaryShare(a) - w)).toBeLessThan(1);
    for (const s of a) {
      expect(s.weight).toBeGreaterThanOrEqual(0);
      expect(s.weight).toBeLessThanOrEqual(MAX_WEIGHT);
      expect(Number.isInteger(s.weight)).toBe(true);
      if (s.state === "maint") expect(s.weight).toBe(0);
    }
  });

  test("documented bound: |error| < 1 point for every w 0..100, P, C <= 5", () => {
    for (let p = 1; p <= 5; p++)
      for (let c = 1; c <= 5; c++)
        for (let w = 0; w <= 100; w++) {
          const sw = serverWeights(w, p, c);
          const share = w === 0 ? 0 : w === 100 ? 100 : (100 * c * sw.canary) / (c * sw.canary + p * sw.prod);
          expect(Math.abs(share - w)).toBeLessThan(1);
        }
  });

  test("disabled canary: canary slots maint, prod takes everything", () => {
    const a = computeWeights({ canaryWeight: 50, canaryEnabled: false }, fleet(3, 1), slots);
    expect(canaryShare(a)).toBe(0);
    expect(a.filter((s) => s.slot.startsWith("canary")).every((s) => s.state === "maint" && s.weight === 0)).toBe(true);
    expect(a.filter((s) => s.state === "ready").map((s) => s.slot)).toEqual(["prod1", "prod2", "prod3"]);
  });

  test.each([
    // [what, routing, backends, expected canary slots]
    ["enabled at weight 0: ready at weight 0, for testers only", { canaryWeight: 0, canaryEnabled: true }, fleet(3, 2), [["ready", 0], ["ready", 0], ["maint", 0]]],
    ["disabled at weight 0: maint, unreachable", { canaryWeight: 0, canaryEnabled: false }, fleet(3, 2), [["maint", 0], ["maint", 0], ["maint", 0]]],
    ["enabled at weight 0, one canary draining: that one maint", { canaryWeight: 0, canaryEnabled: true }, fleet(3, 2).map((b) => (b.id === "c2" ? { ...b, draining: true } : b)), [["ready", 0], ["maint", 0], ["maint", 0]]],
    ["enabled at weight 0, no serving prod: maint, as below weight 100", { canaryWeight: 0, canaryEnabled: true }, fleet(0, 1), [["maint", 0], ["maint", 0], ["maint", 0]]],
    ["enabled at weight 25: in the split", { canaryWeight: 25, canaryEnabled: true }, fleet(3, 1), [["ready", 1], ["maint", 0], ["maint", 0]]],
  ] as const)("canary slots, %s", (_what, routing, backends, expected) => {
    const a = computeWeights(routing, backends, slots);
    expect(a.filter((s) => s.slot.startsWith("canary")).map((s) => [s.state, s.weight])).toEqual(expected);
    if (routing.canaryWeight === 0) expect(canaryShare(a) || 0).toBe(0);
  });

  test("canaries the weight cap keeps out of the split stay ready at weight 0, taking no share", () => {
    const a = computeWeights({ canaryWeight: 1, canaryEnabled: true }, fleet(1, 64), { prod: 1, canary: 64 });
    const canaries = a.filter((s) => s.slot.startsWith("canary"));
    expect(canaries.every((s) => s.state === "ready")).toBe(true);
    expect(canaries.filter((s) => s.weight === 0).length).toBeGreaterThan(0);
    expect(canaryShare(a)).toBeLessThan(2);
  });

  test("no canary backend: all prod; no serving prod backend: the canary never becomes the whole fleet below weight 100", () => {
    expect(canaryShare(computeWeights({ canaryWeight: 40, canaryEnabled: true }, fleet(2, 0), slots))).toBe(0);
    expect(computeWeights({ canaryWeight: 40, canaryEnabled: true }, fleet(0, 2), slots).every((s) => s.state === "maint")).toBe(true);
    const allDraining = fleet(2, 1).map((x) => (x.role === "prod" ? { ...x, draining: true } : x));
    expect(computeWeights({ canaryWeight: 40, canaryEnabled: true }, allDraining, slots).every((s) => s.state === "maint")).toBe(true);
    expect(canaryShare(computeWeights({ canaryWeight: 100, canaryEnabled: true }, fleet(0, 2), slots))).toBe(100);
    expect(computeWeights({ canaryWeight: 100, canaryEnabled: false }, fleet(0, 2), slots).every((s) => s.state === "maint")).toBe(true);
  });

  test("invariant: for any registry content the canary's share is at most its weight + 1 point (or nothing is served)", () => {
    const big = { prod: 64, canary: 64 };
    const counts = [0, 1, 2, 3, 5, 8, 16, 64];
    for (const p of counts)
      for (const c of counts)
        for (const w of [0, 1, 2, 5, 10, 33, 50, 90, 99, 100])
          for (const canaryEnabled of [true, false])
            for (const drain of ["none", "prod", "canary", "half"] as const) {
              const b = fleet(p, c).map((x, i) =>
                drain === "half" ? (i % 2 === 0 ? { ...x, draining: true } : x) : x.role === drain ? { ...x, draining: true } : x,
              );
              const share = canaryShare(computeWeights({ canaryWeight: w, canaryEnabled }, b, big));
              if (Number.isNaN(share)) continue; // nothing served at all
              expect([p, c, w, canaryEnabled, drain, share <= (canaryEnabled ? w : 0) + 1]).toEqual([p, c, w, canaryEnabled, drain, true]);
            }
  });

  test("many canaries beside few prod servers: extra canaries sit out rather than exceed the weight", () => {
    const a = computeWeights({ canaryWeight: 1, canaryEnabled: true }, fleet(1, 64), { prod: 1, canary: 64 });
    expect(canaryShare(a)).toBeLessThan(2);
    expect(a.filter((s) => s.slot.startsWith("canary") && s.state === "ready").length).toBeGreaterThanOrEqual(1);
  });

  test("deterministic: sorted by id, unused slots maint at the placeholder, input order irrelevant", () => {
    const b = fleet(2, 1);
    const a1 = computeWeights({ canaryWeight: 25, canaryEnabled: true }, b, slots);
    const a2 = computeWeights({ canaryWeight: 25, canaryEnabled: true }, [...b].reverse(), slots);
    expect(a2).toEqual(a1);
    expect(a1.find((s) => s.slot === "prod1")).toMatchObject({ address: "10.0.0.1", port: 8080, state: "ready" });
    expect(a1.find((s) => s.slot === "prod3")).toEqual({ slot: "prod3", address: "127.0.0.1", port: 1, weight: 0, state: "maint" });
    expect(a1.map((s) => s.slot)).toEqual(["prod1", "prod2", "prod3", "prod4", "prod5", "prod6", "canary1", "canary2", "canary3"]);
  });

  test("a draining backend keeps its slot in maint; the split is exact over the others", () => {
    const b = fleet(3, 1).map((x) => (x.id === "p3" ? { ...x, draining: true } : x));
    const a = computeWeights({ canaryWeight: 25, canaryEnabled: true }, b, slots);
    expect(a.find((s) => s.slot === "prod3")).toMatchObject({ address: "10.0.0.3", state: "maint", weight: 0 });
    expect(a.filter((s) => s.state === "ready").map((s) => s.slot)).toEqual(["prod1", "prod2", "canary1"]);
    expect(canaryShare(a)).toBe(25);
    // The only canary draining: prod takes everything.
    const c = computeWeights({ canaryWeight: 25, canaryEnabled: true }, fleet(2, 1).map((x) => (x.role === "canary" ? { ...x, draining: true } : x)), slots);
    expect(canaryShare(c)).toBe(0);
  });

  test("more backends than slots: extras are left out", () => {
    const a = computeWeights({ canaryWeight: 0, canaryEnabled: true }, fleet(8, 0), slots);
    expect(a.filter((s) => s.state === "ready")).toHaveLength(6);
  });
});
