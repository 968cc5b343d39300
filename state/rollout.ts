/**
 * The rollout in Redis: `aviary:rollout` (JSON of RolloutState, core/rollout/model.ts) and the
 * proxies' windows per step. Every write of the rollout is one script with the routing change it
 * goes with (changeRouting's rules, ROUTING_DECIDE), one `rollout` event and one change notice.
 * Garbage is never acted on: readers name it, and the only writes that go over it are those that
 * turn the canary off (they are never blocked).
 */
import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { InvalidInputError, InvariantError } from "../core/errors";
import type { Evidence, JudgeInput } from "../core/rollout/judge";
import type { RolloutState, StepResult } from "../core/rollout/model";
import { EMPTY_WINDOW, sumWindows } from "../core/rollout/sumWindows";
import { judgementReason } from "../core/rollout/judgementReason";
import { describeIssues, issuesLine } from "../core/validation/issues";
import { preview, PREVIEW_CHARS } from "./bounds";
import { RolloutConflictError } from "./errors";
import { readOfType, repairingType } from "./keyTypes";
import { keys } from "./keys";
import { LUA_ROUTING_DETAIL, ROUTING_DECIDE, ROUTING_MUTATE, routingChange, routingKeySpec, routingParams, validBy, type RoutingChange, type RoutingTarget } from "./routing";
import { MAX_RESULTS, MAX_ROLLOUT_JSON, MAX_WINDOW_JSON, rolloutStateSchema, stepResultSchema, tokenSchema, windowEntrySchema } from "./rolloutSchema";
import { runWrite, storedReason, writeScript, type KeySpec, type WriteScript } from "./writeScript";

/** How long a step's windows are kept after the last proxy wrote one. */
export const WINDOW_TTL_SECONDS = 86_400;
/** Most proxies' windows read for one step (a real fleet has a handful of proxies). */
export const MAX_WINDOW_PROXIES = 1000;

const ROLLOUT_EXPECTED = "a rollout state (JSON with id, status, step, results and an integer revision)";

/**
 * Reads `aviary:rollout`: null when there is none; undefined when it is garbage (another type,
 * too large, not JSON, a bad field), with `problems` naming each bad field. Garbage never moves traffic.
 */
export async function readRollout(redis: Redis): Promise<{ state: RolloutState | null | undefined; problems: string[] }> {
  const read = await readOfType(redis, keys.rollout, "string", () => redis.get(keys.rollout));
  if ("problem" in read) return { state: undefined, problems: [read.problem] };
  return read.value === null ? { state: null, problems: [] } : parseRollout(read.value);
}

function parseRollout(raw: string): { state: RolloutState | undefined; problems: string[] } {
  const parsed = parseJson(raw, MAX_ROLLOUT_JSON);
  if (typeof parsed === "string") return { state: undefined, problems: [`${keys.rollout}: ${parsed}`] };
  const checked = rolloutStateSchema.safeParse(parsed.value);
  if (!checked.success) return { state: undefined, problems: describeIssues(checked.error.issues).map((p) => `${keys.rollout} ${p}`) };
  return { state: checked.data, problems: [] };
}

/**
 * SHA-1 of the stored rollout when it is a string readRollout calls garbage, else "". The script's
 * own check reads only the fields it needs; with this it takes a value that has those but is
 * garbage otherwise as garbage too (if it is still the same value), so that every write sees the
 * rollout as readers do: a write over garbage is refused unless it turns the canary off, and a
 * judge's abort leaves it alone.
 */
async function garbageDigest(redis: Redis): Promise<string> {
  // A value over the bound is garbage to the script by its size alone: at most one byte more is read.
  const read = await readOfType(redis, keys.rollout, "string", () => redis.getrangeBuffer(keys.rollout, 0, MAX_ROLLOUT_JSON));
  if ("problem" in read || read.value.length === 0 || read.value.length > MAX_ROLLOUT_JSON) return "";
  if (parseRollout(read.value.toString("utf8")).state !== undefined) return "";
  return createHash("sha1").update(read.value).digest("hex");
}

/** The value of a bounded JSON text, or what is wrong with it (its size counted in bytes, as Redis does). */
function parseJson(raw: string, max: number): { value: unknown } | string {
  const bytes = Buffer.byteLength(raw);
  if (bytes > max) return `over the ${max}-byte limit (${preview(raw, bytes, "bytes")})`;
  try {
    return { value: JSON.parse(raw) as unknown };
  } catch {
    return `not JSON (${preview(raw)})`;
  }
}

/**
 * Lua: the stored rollout as `ro` (a table with the fields a script needs), or `ro_garbage` (what
 * was found) when it is unreadable; both nil when there is none. A key of another type is garbage
 * here only for a script that leaves it alone (KeySpec type "any"); the others moved it aside (W.rollout).
 */
const LUA_READ_ROLLOUT = `
local ro, ro_garbage = nil, nil
local ro_type = key_type(K.rollout)
if W.rollout then
  ro_garbage = W.rollout
elseif ro_type == 'string' then
  local raw = redis.call('GET', K.rollout)
  local ok, v = false, nil
  if #raw <= ${MAX_ROLLOUT_JSON} then ok, v = pcall(cjson.decode, raw) end
  if ok and type(v) == 'table' and type(v.id) == 'string' and type(v.status) == 'string' and type(v.step) == 'number'
    and type(v.results) == 'table' and type(v.revision) == 'number' and v.revision >= 0 and v.revision == math.floor(v.revision)
    and not (P.garbageDigest ~= '' and redis.sha1hex(raw) == P.garbageDigest) then
    ro = v
  else
    ro_garbage = value_found(raw)
  end
elseif ro_type ~= 'none' then
  ro_garbage = describe_key(K.rollout, ro_type)
end
local old_status = (ro and ro.status) or (ro_garbage and 'garbage') or 'none'
`;

// P.next: the JSON to store ('' deletes); P.expect: the revision read (-1: none); P.off: the write
// turns the canary off, so garbage in the rollout does not block it (it is replaced).
const WRITE_PREPARE = `
${LUA_READ_ROLLOUT}
if ro_garbage then
  if P.off ~= 'true' then
    return refuse_garbage(K.rollout, nil, ro_garbage, '${ROLLOUT_EXPECTED}', 'abort the rollout (aviary rollout abort): turning the canary off replaces it')
  end
  if not W.rollout then
    local done = 'repaired (replaced)'
    if P.next == '' then done = 'repaired (deleted)' end
    table.insert(repairs, bad_key_message(K.rollout, nil, ro_garbage, '${ROLLOUT_EXPECTED}', done))
  end
else
  local stored = -1
  if ro then stored = ro.revision end
  if stored ~= P.expect then return noop({conflict = true, found = stored}) end
end
`;

const ROLLOUT_EVENT = (withRouting: boolean): string => `
local rollout_id = P.rolloutId
if rollout_id == '' and ro then rollout_id = ro.id end
event('rollout', P.by, P.reason, {'rolloutId', rollout_id, 'oldStatus', old_status, 'newStatus', P.status, 'step', P.step, 'weight', P.stepWeight, 'revision', P.revision${withRouting ? `, ${LUA_ROUTING_DETAIL}` : ""}}, {kind = 'rollout'})
`;

const WRITE_MUTATE = `
if P.next == '' then redis.call('DEL', K.rollout) else redis.call('SET', K.rollout, P.next) end
`;

/** The rollout write without a routing change, with one, and with one that turns the canary off. */
function writeRolloutScript(routing: RoutingTarget | undefined): WriteScript {
  const rolloutKey: KeySpec = { name: "rollout", type: "string", onWrongType: routing?.enabled === false ? "set-aside" : "refuse" };
  if (routing === undefined) return writeScript({ keys: [rolloutKey], prepare: WRITE_PREPARE + ROLLOUT_EVENT(false), mutate: WRITE_MUTATE });
  return writeScript({
    keys: [routingKeySpec(routing), rolloutKey],
    prepare: `${WRITE_PREPARE}${ROUTING_DECIDE}${ROLLOUT_EVENT(true)}result = {old_w, old_e, new_w, new_e}`,
    mutate: WRITE_MUTATE + ROUTING_MUTATE,
  });
}
const WRITE_SCRIPTS = {
  none: writeRolloutScript(undefined),
  change: writeRolloutScript({ enabled: true }),
  off: writeRolloutScript({ enabled: false }),
};

export interface RolloutWriteOptions {
  by: string;
  reason: string;
  /** The revision the write is based on; null: it expects no rollout stored. */
  expectRevision: number | null;
}

export interface RolloutWrite {
  eventId: string;
  /** The routing change, when the write made one. */
  routing?: RoutingChange;
}

/**
 * The one write of a rollout decision: the rollout (revision expectRevision + 1, or 1 over none;
 * updatedBy = by; null deletes it) and the routing change with it, as one script. Throws RolloutConflictError if
 * the stored revision is not expectRevision, InvalidInputError for an invalid state or routing,
 * GarbageValueError / WrongTypeError if `aviary:rollout` is unreadable — in each case nothing is
 * written. A write that turns the canary off (routing enabled false) goes over any garbage.
 */
export async function writeRollout(redis: Redis, next: RolloutState | null, routing: RoutingTarget | undefined, opts: RolloutWriteOptions): Promise<RolloutWrite> {
  const by = validBy(opts?.by);
  const expect = opts.expectRevision;
  if (expect !== null && !(Number.isSafeInteger(expect) && expect >= 0)) throw new InvalidInputError(`Invalid expectRevision ${JSON.stringify(expect)}: must be null or an integer ≥ 0`);
  const routingP = routing === undefined ? {} : routingParams(routing);
  // Revisions count from 1, the first write over no rollout, as the decisions count them.
  const stored = next === null ? null : checkedState({ ...next, updatedBy: by, revision: (expect ?? 0) + 1 });
  const script = routing === undefined ? WRITE_SCRIPTS.none : routing.enabled === false ? WRITE_SCRIPTS.off : WRITE_SCRIPTS.change;
  const outcome = await runWrite<{ conflict?: boolean; found?: number } | string[]>(redis, script, routing === undefined ? [keys.rollout] : [keys.routing, keys.rollout], {
    ...routingP,
    next: stored === null ? "" : JSON.stringify(stored),
    garbageDigest: await garbageDigest(redis),
    expect: expect ?? -1,
    off: String(routing?.enabled === false),
    rolloutId: stored?.id ?? "",
    status: stored?.status ?? "none",
    step: stored === null ? "" : String(stored.step),
    stepWeight: stored === null ? "" : String(stored.plan.steps[stored.step].weight),
    revision: stored === null ? "" : String(stored.revision),
    by,
    reason: storedReason(opts.reason),
  });
  if (outcome.status === "noop") {
    const found = (outcome.result as { found?: number }).found;
    throw new RolloutConflictError(expect, found === undefined || found < 0 ? null : found);
  }
  const eventId = outcome.eventIds[0];
  return routing === undefined ? { eventId } : { eventId, routing: routingChange(eventId, outcome.result as string[], outcome.repairs) };
}

/** JSON has no Infinity: an infinite ln e-value (beyond every threshold) is stored as the largest finite number of its sign. */
const finite = (ln: number): number => (ln === Infinity ? Number.MAX_VALUE : ln === -Infinity ? -Number.MAX_VALUE : ln);
const storableEvidence = (e: Evidence): Evidence => ({ lnFail: finite(e.lnFail), lnPass: finite(e.lnPass), lnThreshold: finite(e.lnThreshold) });

/** `r` as JSON can hold it. */
function storableResult(r: StepResult): StepResult {
  const { errorRate, latency } = r.judgement ?? {};
  if (!errorRate?.evidence || !latency) return r;
  return {
    ...r,
    judgement: {
      ...r.judgement,
      errorRate: { ...errorRate, evidence: storableEvidence(errorRate.evidence) },
      latency: { ...latency, evidence: latency.evidence === null ? null : storableEvidence(latency.evidence) },
    },
  };
}

/** A state as it will be stored, or InvalidInputError naming every bad field. */
function checkedState(state: RolloutState): RolloutState {
  const checked = rolloutStateSchema.safeParse({ ...state, results: Array.isArray(state.results) ? state.results.map(storableResult) : state.results });
  if (!checked.success) throw new InvalidInputError(`Invalid rollout state: ${issuesLine(checked.error.issues)}`);
  if (Buffer.byteLength(JSON.stringify(checked.data)) > MAX_ROLLOUT_JSON) throw new InvalidInputError(`Invalid rollout state: its JSON is over ${MAX_ROLLOUT_JSON} bytes`);
  return checked.data;
}

// The canary off exactly as disableCanary (ROUTING_DECIDE with P.enabled 'false'), and the stored
// rollout aborted only if it is the one judged (id and step) and still running. Nothing is written
// when the canary is already off and there is nothing to mark (another proxy was first). The state
// is re-encoded here (the abort is decided and written in one step): Redis's cjson keeps 14
// significant digits of each number, enough for every count and far more than a verdict needs.
const ABORT_PREPARE = `
${ROUTING_DECIDE}
${LUA_READ_ROLLOUT}
local matches = ro ~= nil and ro.id == P.rolloutId and ro.step == P.step and (ro.status == 'progressing' or ro.status == 'paused')
local turned_off = old_e ~= 'false'
if not matches and not turned_off and exists and #repairs == 0 then return noop({turnedOff = false, aborted = false}) end
local new_status, new_json, revision = old_status, nil, ''
if matches then
  new_status = 'aborted'
  ro.status, ro.reason, ro.updatedAt, ro.updatedBy = 'aborted', P.reason, P.at, P.by
  ro.revision = ro.revision + 1
  revision = tostring(ro.revision)
  while #ro.results >= ${MAX_RESULTS} do table.remove(ro.results, 1) end
  table.insert(ro.results, P.result)
  new_json = cjson.encode(ro)
  -- Oldest results go first if the state would outgrow its bound.
  while #new_json > ${MAX_ROLLOUT_JSON} and #ro.results > 1 do
    table.remove(ro.results, 1)
    new_json = cjson.encode(ro)
  end
end
event('rollout', P.by, P.reason, {'rolloutId', P.rolloutId, 'oldStatus', old_status, 'newStatus', new_status, 'step', tostring(P.step), 'weight', tostring(P.result.weight), 'revision', revision, 'verdict', P.result.verdict, ${LUA_ROUTING_DETAIL}}, {kind = 'rollout'})
result = {turnedOff = turned_off, aborted = matches}
`;

const ABORT_SCRIPT = writeScript({
  // The rollout key is only read, and written only when it holds a rollout: garbage of any type is left as it is.
  keys: [routingKeySpec({ enabled: false }), { name: "rollout", type: "any" }],
  prepare: ABORT_PREPARE,
  mutate: `${ROUTING_MUTATE}\nif new_json then redis.call('SET', K.rollout, new_json) end`,
});

export interface JudgeAbort {
  rolloutId: string;
  /** The step that was judged (index into plan.steps). */
  step: number;
  result: StepResult;
}

/**
 * A judge's abort (the agent's fast abort): the canary off, never blocked (as disableCanary, over
 * any garbage), and the rollout marked aborted with `result` appended if it is still this rollout
 * at this step and progressing or paused. Idempotent: once the canary is off and the rollout
 * marked, a call writes nothing (eventId null). The reason is the judge's numbers.
 */
export async function abortByJudge(redis: Redis, abort: JudgeAbort, opts: { by: string }): Promise<{ turnedOff: boolean; aborted: boolean; eventId: string | null }> {
  const by = validBy(opts?.by);
  const id = tokenSchema.safeParse(abort?.rolloutId);
  if (!id.success) throw new InvalidInputError(`Invalid rolloutId: ${id.error.issues[0].message}`);
  if (!Number.isSafeInteger(abort.step) || abort.step < 0) throw new InvalidInputError(`Invalid step ${JSON.stringify(abort.step)}: must be an integer ≥ 0`);
  const result = stepResultSchema.safeParse(abort?.result && storableResult(abort.result));
  if (!result.success) throw new InvalidInputError(`Invalid step result: ${issuesLine(result.error.issues)}`);
  const outcome = await runWrite<{ turnedOff: boolean; aborted: boolean }>(redis, ABORT_SCRIPT, [keys.routing, keys.rollout], {
    ...routingParams({ enabled: false }),
    garbageDigest: await garbageDigest(redis),
    rolloutId: id.data,
    step: abort.step,
    result: result.data,
    by,
    reason: storedReason(`judge at step ${abort.step + 1} (weight ${result.data.weight}): ${judgementReason(result.data.judgement)}`),
  });
  if (outcome.status === "noop") return { turnedOff: false, aborted: false, eventId: null };
  if (outcome.eventIds.length !== 1) throw new InvariantError("abortByJudge: script wrote no event");
  return { turnedOff: outcome.result.turnedOff, aborted: outcome.result.aborted, eventId: outcome.eventIds[0] };
}

function checkWindowKey(rolloutId: string, step: number): string {
  const id = tokenSchema.safeParse(rolloutId);
  if (!id.success) throw new InvalidInputError(`Invalid rolloutId: ${id.error.issues[0].message}`);
  if (!Number.isSafeInteger(step) || step < 0) throw new InvalidInputError(`Invalid step ${JSON.stringify(step)}: must be an integer ≥ 0`);
  return keys.rolloutWindow(id.data, step);
}

/**
 * Stores one proxy's window for a step (counts since it first saw this run of the step: a resumed
 * step starts again at a new stepStartedAt) and keeps the step's windows a day from now. A window
 * key of another type is replaced (`onRepair` says so).
 */
export async function recordWindow(
  redis: Redis,
  rolloutId: string,
  step: number,
  stepStartedAt: string,
  proxyId: string,
  window: JudgeInput,
  onRepair: (problem: string) => void = () => undefined,
): Promise<void> {
  const key = checkWindowKey(rolloutId, step);
  const proxy = tokenSchema.safeParse(proxyId);
  if (!proxy.success) throw new InvalidInputError(`Invalid proxy id: ${proxy.error.issues[0].message}`);
  const entry = windowEntrySchema.safeParse({ canary: window?.canary, production: window?.production, stepStartedAt, at: new Date().toISOString() });
  if (!entry.success) throw new InvalidInputError(`Invalid window: ${issuesLine(entry.error.issues)}`);
  const json = JSON.stringify(entry.data);
  if (Buffer.byteLength(json) > MAX_WINDOW_JSON) throw new InvalidInputError(`Invalid window: its JSON is over ${MAX_WINDOW_JSON} bytes`);
  await repairingType(redis, key, "hash", async () => {
    const replies = await redis.multi().hset(key, proxy.data, json).expire(key, WINDOW_TTL_SECONDS).exec();
    const failed = replies?.find(([err]) => err !== null);
    if (failed) throw failed[0];
  }, onRepair);
}

/** A hash field as a problem names it: quoted, cut to a short prefix. */
const fieldName = (field: string): string => JSON.stringify(field.slice(0, PREVIEW_CHARS));

/** Up to MAX_WINDOW_PROXIES fields of a hash. */
async function readFields(redis: Redis, key: string): Promise<{ fields: [string, string][]; more: boolean }> {
  const fields: [string, string][] = [];
  let cursor = "0";
  do {
    const [next, flat] = await redis.hscan(key, cursor, "COUNT", 100);
    for (let i = 0; i + 1 < flat.length; i += 2) fields.push([flat[i], flat[i + 1]]);
    cursor = next;
  } while (cursor !== "0" && fields.length < MAX_WINDOW_PROXIES);
  // Sorted so that the sum and its problems do not depend on the hash's order.
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { fields: fields.slice(0, MAX_WINDOW_PROXIES), more: cursor !== "0" || fields.length > MAX_WINDOW_PROXIES };
}

/**
 * Every proxy's window of a step, summed (latency histograms bucket by bucket). Given the step's
 * stepStartedAt, only windows of that run of the step are summed: those of a run before a resume
 * (a proxy that has not yet seen the resume) are left out, as counts the new window must not hold.
 * A garbage entry is skipped and named in `problems`; `proxies` counts the windows summed.
 */
export async function readWindows(redis: Redis, rolloutId: string, step: number, stepStartedAt: string): Promise<{ sum: JudgeInput; proxies: number; problems: string[] }> {
  const key = checkWindowKey(rolloutId, step);
  const got = await readOfType(redis, key, "hash", () => readFields(redis, key));
  if ("problem" in got) return { sum: EMPTY_WINDOW, proxies: 0, problems: [got.problem] };
  const read = got.value;
  const problems: string[] = read.more ? [`${key}: more than ${MAX_WINDOW_PROXIES} proxies; only the first ${MAX_WINDOW_PROXIES} are summed`] : [];
  const valid: { proxy: string; window: JudgeInput }[] = [];
  for (const [proxy, raw] of read.fields) {
    const field = `${key} field ${fieldName(proxy)}`;
    const parsed = parseJson(raw, MAX_WINDOW_JSON);
    if (typeof parsed === "string") {
      problems.push(`${field}: ${parsed}; skipped`);
      continue;
    }
    const entry = windowEntrySchema.safeParse(parsed.value);
    if (!entry.success) problems.push(`${field}: ${issuesLine(entry.error.issues)}; skipped`);
    else if (entry.data.stepStartedAt === stepStartedAt) valid.push({ proxy, window: { canary: entry.data.canary, production: entry.data.production } });
  }
  const { sum, mismatched } = sumWindows(valid.map((v) => v.window));
  for (const i of mismatched) problems.push(`${key} field ${fieldName(valid[i].proxy)}: latency bounds differ from the other proxies'; skipped`);
  return { sum, proxies: valid.length - mismatched.length, problems };
}
