// The parts of a status report that live in Redis, each read on its own (see section.ts), so
// the dashboard and `aviary status` show the same sections with the same messages.
import type Redis from "ioredis";
import { readEvents, type AviaryEvent } from "./events";
import { readFlags } from "./flags";
import { readSegments } from "./segments";
import type { StoredFlag, StoredSegment } from "../core/flags/model";
import { KEY_FAMILIES } from "./keyTypes";
import { listBackends, type Backend } from "./registry";
import { readRouting, type RoutingState } from "./routing";
import { readRollout } from "./rollout";
import type { RolloutState } from "../core/rollout/model";
import { readSection, type Section } from "./section";

/** The routing state; null when `aviary:routing` is garbage or of the wrong type. */
export function routingSection(redis: Redis): Promise<Section<RoutingState | null>> {
  return readSection(async () => {
    const r = await readRouting(redis);
    return { value: r.state ?? null, problems: r.problems };
  }, null, { redis, family: KEY_FAMILIES.routing });
}

/** The rollout; null when there is none, or (the section broken) when `aviary:rollout` is garbage. */
export function rolloutSection(redis: Redis): Promise<Section<RolloutState | null>> {
  return readSection(async () => {
    const r = await readRollout(redis);
    return { value: r.state ?? null, problems: r.problems };
  }, null, { redis, family: KEY_FAMILIES.rollout });
}

/** Live valid backends; a bad hash is left out and named, a bad index empties the list. */
export function backendsSection(redis: Redis): Promise<Section<Backend[]>> {
  return readSection(async () => {
    const r = await listBackends(redis);
    return { value: r.backends, problems: r.problems };
  }, [], { redis, family: KEY_FAMILIES.backends });
}

/** Valid flag definitions; a bad definition is left out and named, a bad index empties the list. */
export function flagsSection(redis: Redis): Promise<Section<StoredFlag[]>> {
  return readSection(async () => {
    const r = await readFlags(redis);
    return { value: r.flags, problems: r.problems };
  }, [], { redis, family: KEY_FAMILIES.flags });
}

/** Valid segments; a bad definition is left out and named, a bad index empties the list. */
export function segmentsSection(redis: Redis): Promise<Section<StoredSegment[]>> {
  return readSection(async () => {
    const r = await readSegments(redis);
    return { value: r.segments, problems: r.problems };
  }, [], { redis, family: KEY_FAMILIES.segments });
}

/** The latest `count` events, oldest first. */
export function eventsSection(redis: Redis, count: number): Promise<Section<AviaryEvent[]>> {
  return readSection(async () => {
    const r = await readEvents(redis, { count });
    return { value: r.events, problems: r.problems };
  }, [], { redis, family: KEY_FAMILIES.events });
}
