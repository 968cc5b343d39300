// Pure mapping from registry state to HAProxy server slots (no I/O, so it is table-tested).
import type { Role } from "./role";
import { clampWeight } from "./weight";
import { slotName } from "./slots";

export interface SlotAssignment {
  /** HAProxy server name in backend "app", e.g. prod1, canary2. */
  slot: string;
  /** Placeholder 127.0.0.1:1 for unused slots (kept in maint). */
  address: string;
  port: number;
  /** 0..256 (HAProxy's cap). */
  weight: number;
  state: "ready" | "maint";
}

export interface WeightRouting {
  canaryWeight: number;
  canaryEnabled: boolean;
}

export interface WeightBackend {
  id: string;
  role: Role;
  address: string;
  /** Marked by the controller before it removes the instance: keeps its slot, gets no new requests. */
  draining?: boolean;
}

export interface Slots {
  prod: number;
  canary: number;
}

/** HAProxy's maximum server weight. */
export const MAX_WEIGHT = 256;
const PLACEHOLDER = { address: "127.0.0.1", port: 1 };

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Splits "host:port" / "[v6]:port"; the registry has already validated the shape. */
export function splitAddress(address: string): { address: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  return { address: host, port: Number(address.slice(i + 1)) };
}

/**
 * Per-server weights {prod, canary} so that C*canary / (P*prod + C*canary) = w/100.
 * The exact pair is prod = (100-w)*C, canary = w*P, reduced by their gcd. If that still exceeds
 * 256 we search every canary weight 1..256 for the integer pair with the smallest share error
 * (prod weight rounded, kept in 1..256). Error bound: exact whenever the reduced pair fits in
 * 256; otherwise |error| < 1 percentage point for P, C <= 5 (asserted in tests/unit/core/weights.test.ts
 * for every w 0..100), since a 1..256 grid approximates any ratio far closer than that.
 */
export function serverWeights(w: number, prodCount: number, canaryCount: number): { prod: number; canary: number } {
  if (w <= 0) return { prod: 1, canary: 0 };
  if (w >= 100) return { prod: 0, canary: 1 };
  let prod = (100 - w) * canaryCount;
  let canary = w * prodCount;
  const g = gcd(prod, canary);
  prod /= g;
  canary /= g;
  if (prod <= MAX_WEIGHT && canary <= MAX_WEIGHT) return { prod, canary };
  const target = w / 100;
  let best = { prod: 1, canary: 1, err: Infinity };
  for (let c = 1; c <= MAX_WEIGHT; c++) {
    // Solve C*c / (P*p + C*c) = target for p, then round into range.
    const p = Math.min(MAX_WEIGHT, Math.max(1, Math.round((canaryCount * c * (1 - target)) / (target * prodCount))));
    const err = Math.abs((canaryCount * c) / (prodCount * p + canaryCount * c) - target);
    if (err < best.err) best = { prod: p, canary: c, err };
  }
  return { prod: best.prod, canary: best.canary };
}

/** Canary share in percent of a {prod, canary} server-weight pair over P prod and C canary servers. */
function share(pair: { prod: number; canary: number }, prodCount: number, canaryCount: number): number {
  const total = prodCount * pair.prod + canaryCount * pair.canary;
  return total === 0 ? 0 : (100 * canaryCount * pair.canary) / total;
}

/** Largest rounding overshoot of the canary's share that computeWeights accepts, in points. */
export const MAX_OVERSHOOT = 1;

/**
 * Server weights and how many canaries get them. Weights are capped at 256, so many canaries
 * beside few prod servers cannot get a small share (C=64, P=1, w=1 would give 20%): canaries
 * beyond what keeps the share under w + MAX_OVERSHOOT stay out of the split.
 */
function split(w: number, prodCount: number, canaryCount: number): { prod: number; canary: number; canaries: number } {
  for (let k = canaryCount; k > 1; k--) {
    const pair = serverWeights(w, prodCount, k);
    if (share(pair, prodCount, k) < w + MAX_OVERSHOOT) return { ...pair, canaries: k };
  }
  return { ...serverWeights(w, prodCount, 1), canaries: 1 };
}

/**
 * Slot assignments for every configured slot. Backends are sorted by id and fill slots in order,
 * so re-applies with the same registry never move a server. Extra backends beyond the slot count
 * are ignored (the caller logs them). The canary's share never exceeds its weight (+ rounding):
 * - canary disabled → canary slots maint, prod gets everything;
 * - canary enabled at weight 0 → prod gets everything; the canary's slots are ready at weight 0, for
 *   testers only (haproxy/config.ts);
 * - no live canary → prod gets everything;
 * - no serving prod → the canary serves only at weight 100: an unproven version must not become
 *   the whole fleet because prod vanished from the registry (a 503 is seen and alarmed; a silent
 *   full rollout is not);
 * - unused slots → maint at the placeholder address, weight 0;
 * - draining backends keep their slot (nothing moves) but are maint; the split is over the others.
 */
export function computeWeights(routing: WeightRouting, backends: readonly WeightBackend[], slots: Slots): SlotAssignment[] {
  const byId = (a: WeightBackend, b: WeightBackend): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const prod = backends.filter((b) => b.role === "prod").sort(byId).slice(0, slots.prod);
  const canary = backends.filter((b) => b.role === "canary").sort(byId).slice(0, slots.canary);
  const w = clampWeight(routing.canaryWeight);

  const servingProd = prod.filter((b) => !b.draining).length;
  const servingCanary = canary.filter((b) => !b.draining);

  let weights: { prod: number; canary: number; canaries: number };
  if (servingCanary.length === 0 || !routing.canaryEnabled) weights = { prod: 1, canary: 0, canaries: 0 };
  else if (servingProd === 0) weights = w >= 100 ? { prod: 0, canary: 1, canaries: servingCanary.length } : { prod: 0, canary: 0, canaries: 0 };
  else weights = split(w, servingProd, servingCanary.length);
  const inSplit = new Set(servingCanary.slice(0, weights.canaries).map((b) => b.id));

  // weight(b): its server weight, 0 = ready but out of the split, undefined = maint.
  const fill = (role: Role, count: number, live: WeightBackend[], weight: (b: WeightBackend) => number | undefined): SlotAssignment[] =>
    Array.from({ length: count }, (_, i) => {
      const b = live[i];
      const slot = slotName(role, i + 1);
      const w = b === undefined ? undefined : weight(b);
      if (b === undefined || w === undefined) return { slot, ...PLACEHOLDER, weight: 0, state: "maint" as const, ...(b ? splitAddress(b.address) : {}) };
      return { slot, ...splitAddress(b.address), weight: w, state: "ready" as const };
    });
  return [
    ...fill("prod", slots.prod, prod, (b) => (b.draining || weights.prod === 0 ? undefined : weights.prod)),
    // Beside serving prod, an enabled canary outside the split (weight 0, or beyond what the cap
    // allows) stays ready at weight 0: load balancing and sticky cookies never pick it
    // (haproxy/config.ts), testers can.
    ...fill("canary", slots.canary, canary, (b) => (inSplit.has(b.id) && weights.canary > 0 ? weights.canary : b.draining || !routing.canaryEnabled || servingProd === 0 ? undefined : 0)),
  ];
}
