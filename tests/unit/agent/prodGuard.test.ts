import { guardProd, NO_TTL_HOLD_MS, type KnownProd } from "../../../agent/prodGuard";
import { computeWeights, type SlotAssignment, type WeightBackend } from "../../../core/routing/weights";

const prod = (i: number): WeightBackend => ({ id: `p${i}`, role: "prod", address: `10.0.0.${i}:8080` });
const canary = (i: number): WeightBackend => ({ id: `c${i}`, role: "canary", address: `10.0.1.${i}:8080` });
const TTL = 15_000;

function read(backends: WeightBackend[], ttl = TTL): { backends: WeightBackend[]; ttlMs: Map<string, number> } {
  return { backends, ttlMs: new Map(backends.map((b) => [b.id, ttl])) };
}

/** The agent's memory after it saw `backends` at `atMs`. */
function seen(backends: WeightBackend[], atMs: number, ttl = TTL): Map<string, KnownProd> {
  return guardProd({ known: new Map(), registry: read(backends, ttl), noticed: new Set(), nowMs: atMs, afterOutage: false }).known;
}

function canaryShare(a: SlotAssignment[]): number {
  const live = a.filter((s) => s.state === "ready");
  const total = live.reduce((n, s) => n + s.weight, 0);
  const c = live.filter((s) => s.slot.startsWith("canary")).reduce((n, s) => n + s.weight, 0);
  return total === 0 ? Number.NaN : (100 * c) / total;
}

describe("guardProd", () => {
  const before = [prod(1), prod(2), canary(1)];

  test.each([
    // [what the registry lists now, ms since last seen, ids noticed, expected held, expected dropped]
    ["the index deleted, only the canary re-registered", [canary(1)], 1000, [], ["p1", "p2"], []],
    ["Redis restarted empty", [], 1000, [], ["p1", "p2"], []],
    ["one prod backend vanished", [prod(1), canary(1)], 1000, [], ["p2"], []],
    ["one prod backend deregistered (its notice seen)", [prod(1), canary(1)], 1000, ["p2"], [], ["p2"]],
    ["a notice for another backend confirms nothing", [canary(1)], 1000, ["c1"], ["p1", "p2"], []],
    ["TTL expired since last seen", [canary(1)], TTL, [], [], ["p1", "p2"]],
    ["just before the TTL", [canary(1)], TTL - 1, [], ["p1", "p2"], []],
    ["nothing missing", [prod(1), prod(2), canary(1)], 1000, [], [], []],
  ] as const)("%s", (_what, now, elapsed, noticed, held, dropped) => {
    const r = guardProd({ known: seen(before, 0), registry: read([...now]), noticed: new Set(noticed), nowMs: elapsed, afterOutage: false });
    expect(r.held).toEqual(held);
    expect(r.dropped).toEqual(dropped);
    expect(r.backends.map((b) => b.id).sort()).toEqual([...now.map((b) => b.id), ...held].sort());
    // Held backends keep the address they were seen with.
    for (const id of held) expect(r.backends.find((b) => b.id === id)).toEqual(before.find((b) => b.id === id));
  });

  test("a held backend is held until its TTL from when it was last seen, not from each read", () => {
    let known = seen(before, 0);
    for (const t of [1000, 5000, 10_000, 14_999]) {
      const r = guardProd({ known, registry: read([canary(1)]), noticed: new Set(), nowMs: t, afterOutage: false });
      expect(r.held).toEqual(["p1", "p2"]);
      known = r.known;
    }
    expect(guardProd({ known, registry: read([canary(1)]), noticed: new Set(), nowMs: 15_000, afterOutage: false }).held).toEqual([]);
  });

  test("back in the registry: the registry's entry wins (new address, new TTL)", () => {
    const moved = { ...prod(1), address: "10.9.9.9:8080" };
    const r = guardProd({ known: seen(before, 0), registry: read([moved, prod(2)], 3000), noticed: new Set(), nowMs: 14_000, afterOutage: false });
    expect(r.held).toEqual([]);
    expect(r.backends.find((b) => b.id === "p1")?.address).toBe("10.9.9.9:8080");
    expect(r.known.get("p1")?.expiresAtMs).toBe(17_000);
  });

  test("re-registered as a canary: no longer held as prod", () => {
    const r = guardProd({ known: seen(before, 0), registry: read([{ ...prod(1), role: "canary" }, prod(2)]), noticed: new Set(), nowMs: 1000, afterOutage: false });
    expect(r.held).toEqual([]);
    expect(r.backends.filter((b) => b.id === "p1").map((b) => b.role)).toEqual(["canary"]);
  });

  test("after an outage of Redis (reads failed), a held backend gets its TTL again from the first good read", () => {
    const known = seen(before, 0);
    // Redis was unreachable for 60 s, longer than the TTL; it comes back empty.
    expect(guardProd({ known, registry: read([]), noticed: new Set(), nowMs: 60_000, afterOutage: false }).held).toEqual([]);
    const r = guardProd({ known, registry: read([]), noticed: new Set(), nowMs: 60_000, afterOutage: true });
    expect(r.held).toEqual(["p1", "p2"]);
    expect(guardProd({ known: r.known, registry: read([]), noticed: new Set(), nowMs: 60_000 + TTL, afterOutage: false }).held).toEqual([]);
  });

  test("an entry without a TTL is held at most the registry's longest TTL", () => {
    const known = seen([prod(1)], 0, -1);
    expect(guardProd({ known, registry: read([]), noticed: new Set(), nowMs: NO_TTL_HOLD_MS - 1, afterOutage: false }).held).toEqual(["p1"]);
    expect(guardProd({ known, registry: read([]), noticed: new Set(), nowMs: NO_TTL_HOLD_MS, afterOutage: false }).held).toEqual([]);
  });

  // Every subset of a 3-prod, 2-canary fleet as what the agent saw before, every subset as what the
  // registry lists now, every weight class: the canary never gets more than its weight (+ rounding).
  test("invariant: for any previous state and any registry content, canary share <= weight + 1 point", () => {
    const all = [prod(1), prod(2), prod(3), canary(1), canary(2)];
    const subsets = Array.from({ length: 2 ** all.length }, (_, m) => all.filter((_, i) => m & (1 << i)));
    let checked = 0;
    for (const prev of subsets)
      for (const now of subsets)
        for (const w of [0, 1, 10, 50, 99, 100]) {
          const r = guardProd({ known: seen(prev, 0), registry: read(now), noticed: new Set(), nowMs: 1000, afterOutage: false });
          const share = canaryShare(computeWeights({ canaryWeight: w, canaryEnabled: true }, r.backends, { prod: 4, canary: 2 }));
          // Every prod backend seen before or listed now is still served (nothing confirmed its loss).
          const prodIds = new Set([...prev, ...now].filter((b) => b.role === "prod").map((b) => b.id));
          expect(r.backends.filter((b) => b.role === "prod").map((b) => b.id).sort()).toEqual([...prodIds].sort());
          if (!Number.isNaN(share)) expect(share).toBeLessThanOrEqual(w + 1);
          // With prod known and a canary listed, the split is the weight.
          if (prodIds.size > 0 && now.some((b) => b.role === "canary")) expect(Math.abs(share - w)).toBeLessThan(1);
          checked++;
        }
    expect(checked).toBe(32 * 32 * 6);
  });
});
