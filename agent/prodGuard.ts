// Which prod backends the proxy keeps serving when the registry lists fewer than before (pure, so
// it is table-tested). A registry that shrinks is suspect: a deleted index, a Redis restart that
// lost the hashes, or a half-written state all look like "prod is gone", and believing them hands
// the canary the whole fleet. A prod backend the agent has seen stays until its absence is
// confirmed: a change notice named it (deregistration publishes one) or its TTL ran out since the
// agent last saw it (a live backend would have heartbeated it back into the index by then).
// While the agent cannot read Redis, backends may not be able to heartbeat either: after such an
// outage each held backend gets a full TTL again, counted from the first good read.
import type { WeightBackend } from "../core/routing/weights";

/** A prod backend the agent has seen in the registry, and when its entry would expire unrefreshed. */
export interface KnownProd {
  backend: WeightBackend;
  expiresAtMs: number;
  /** The TTL it had left when last seen. */
  ttlMs: number;
}

export interface RegistryRead {
  backends: readonly WeightBackend[];
  /** Remaining TTL (ms) of each listed backend at the read; -1 = no TTL. */
  ttlMs: ReadonlyMap<string, number>;
}

export interface GuardInput {
  known: ReadonlyMap<string, KnownProd>;
  registry: RegistryRead;
  /** Backend ids named by a change notice received before this read began. */
  noticed: ReadonlySet<string>;
  nowMs: number;
  /** The agent's previous read of Redis failed. */
  afterOutage: boolean;
}

export interface GuardResult {
  /** The registry's backends plus the prod backends held back. */
  backends: WeightBackend[];
  known: Map<string, KnownProd>;
  /** Prod ids missing from the registry but kept, unconfirmed. */
  held: string[];
  /** Prod ids dropped now that their absence is confirmed. */
  dropped: string[];
}

/** How long an entry without a TTL (someone PERSISTed it) is held at most: the registry's TTL cap. */
export const NO_TTL_HOLD_MS = 86_400_000;

export function guardProd({ known, registry, noticed, nowMs, afterOutage }: GuardInput): GuardResult {
  const next = new Map<string, KnownProd>();
  const listed = new Set(registry.backends.map((b) => b.id));
  for (const b of registry.backends) {
    if (b.role !== "prod") continue;
    const got = registry.ttlMs.get(b.id) ?? -1;
    const ttl = got < 0 ? NO_TTL_HOLD_MS : got;
    next.set(b.id, { backend: b, expiresAtMs: nowMs + ttl, ttlMs: ttl });
  }
  const held: KnownProd[] = [];
  const dropped: string[] = [];
  for (const [id, seen] of known) {
    if (listed.has(id)) continue; // listed (as prod, or re-registered in another role): the registry wins
    const k = afterOutage ? { ...seen, expiresAtMs: Math.max(seen.expiresAtMs, nowMs + seen.ttlMs) } : seen;
    if (noticed.has(id) || nowMs >= k.expiresAtMs) dropped.push(id);
    else {
      held.push(k);
      next.set(id, k);
    }
  }
  const backends = [...registry.backends, ...held.map((k) => k.backend)];
  return { backends, known: next, held: held.map((k) => k.backend.id).sort(), dropped: dropped.sort() };
}
