// The stored shape of a rollout (`aviary:rollout`, core/rollout/model.ts) and of one proxy's
// window (`aviary:rollout:window:<id>:<step>`), strict and bounded: anything else is garbage that
// a reader names field by field and never acts on. The bounds are those of the data itself (the
// judge's valid settings, counts, sizes), not the stack config's policy (core/config/).
// zod/mini: same validation as "zod", a fraction of the size in the controller Lambda's bundle.
import * as z from "zod/mini";
import { MAX_REASON } from "../core/bounds";
import { ROLLOUT_STATUSES } from "../core/rollout/model";
import { MAX_KEPT_RESULTS } from "../core/rollout/decide";

/** Largest stored rollout (its JSON), and largest window entry a reader parses. */
export const MAX_ROLLOUT_JSON = 64 * 1024;
export const MAX_WINDOW_JSON = 16 * 1024;
/** Most results a stored rollout keeps: the decisions' own rule (the newest ones), which a judge's abort keeps too. */
export const MAX_RESULTS = MAX_KEPT_RESULTS;
/**
 * Most steps a plan has: the stack config's MAX_ROLLOUT_STEPS (core/config/rollout.ts), not
 * imported from there because that module brings the whole of zod into the controller's bundle.
 */
export const MAX_STEPS = 10;
export const MAX_BOUNDS = 64;

/** A strict object whose unknown fields are named (zod/mini carries no messages of its own). */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.strictObject(shape, { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field${iss.keys.length === 1 ? "" : "s"} ${iss.keys.join(", ")}` : "must be an object") });
}
const text = (max: number) => z.string().check(z.minLength(1, "must not be empty"), z.maxLength(max, `must be at most ${max} characters`));
/** Rollout ids and proxy ids are parts of key names and hash fields: no whitespace. */
export const tokenSchema = z.string().check(z.regex(/^\S{1,200}$/, "must be 1-200 characters without spaces"));
const isoSchema = z.iso.datetime("must be an ISO 8601 time");
const reasonSchema = z.string().check(z.maxLength(MAX_REASON, `must be at most ${MAX_REASON} characters`));
const intIn = (min: number, max: number) => z.int(`must be an integer ${min}..${max}`).check(z.gte(min, `must be an integer ${min}..${max}`), z.lte(max, `must be an integer ${min}..${max}`));
const numIn = (min: number, max: number) => z.number(`must be a number in [${min}, ${max}]`).check(z.gte(min, `must be a number in [${min}, ${max}]`), z.lte(max, `must be a number in [${min}, ${max}]`));
const countSchema = z.int("must be a count (an integer ≥ 0)").check(z.gte(0, "must be a count (an integer ≥ 0)"), z.lte(Number.MAX_SAFE_INTEGER, "must be a safe integer"));
const anyNumber = z.number("must be a number");
const lnSchema = anyNumber;
const verdictSchema = z.enum(["pass", "fail", "inconclusive"], 'must be "pass", "fail" or "inconclusive"');

const stepSchema = strict({ weight: intIn(1, 100), pauseSeconds: intIn(1, 7 * 86400) });

// The judge's own valid ranges (core/rollout/judge.ts settingsProblems).
const analysisSchema = strict({
  maxErrorRateIncreasePoints: numIn(0, 99.999),
  latencyQuantile: numIn(0.001, 0.999),
  maxLatencyRatio: numIn(1, 1000),
  minRequests: intIn(1, 1e9),
  alpha: numIn(1e-9, 0.5),
});

export const planSchema = strict({
  steps: z.array(stepSchema).check(z.minLength(1, "must have at least one step"), z.maxLength(MAX_STEPS, `must have at most ${MAX_STEPS} steps`)),
  analysis: analysisSchema,
  autoPromote: z.boolean("must be true or false"),
});

const evidenceSchema = strict({ lnFail: lnSchema, lnPass: lnSchema, lnThreshold: lnSchema });
const rateSchema = strict({ requests: countSchema, errors5xx: countSchema, ratePercent: numIn(0, 100) });
const bucketSchema = z.nullable(strict({ from: anyNumber, to: z.nullable(anyNumber) }));

const judgementSchema = strict({
  verdict: verdictSchema,
  errorRate: strict({
    metric: z.literal("5xx"),
    verdict: verdictSchema,
    canary: rateSchema,
    production: rateSchema,
    differencePoints: numIn(-100, 100),
    allowedPoints: anyNumber,
    evidence: evidenceSchema,
    reason: reasonSchema,
  }),
  latency: strict({
    metric: z.literal("latency"),
    verdict: verdictSchema,
    quantile: anyNumber,
    canary: strict({ timed: countSchema, quantileMs: bucketSchema, atOrAboveBound: countSchema }),
    production: strict({ timed: countSchema, quantileMs: bucketSchema }),
    boundMs: z.nullable(anyNumber),
    allowedRatio: anyNumber,
    evidence: z.nullable(evidenceSchema),
    reason: reasonSchema,
  }),
});

export const stepResultSchema = strict({
  step: intIn(0, MAX_STEPS - 1),
  weight: intIn(0, 100),
  verdict: verdictSchema,
  judgedBy: text(200),
  at: isoSchema,
  judgement: judgementSchema,
});

export const rolloutStateSchema = strict({
  id: tokenSchema,
  appVersion: text(200),
  plan: planSchema,
  status: z.enum(ROLLOUT_STATUSES, `must be one of ${ROLLOUT_STATUSES.join(", ")}`),
  step: intIn(0, MAX_STEPS - 1),
  stepStartedAt: isoSchema,
  results: z.array(stepResultSchema).check(z.maxLength(MAX_RESULTS, `must have at most ${MAX_RESULTS} results`)),
  promoteRequested: z.optional(strict({ by: text(200), at: isoSchema })),
  reason: reasonSchema,
  updatedAt: isoSchema,
  updatedBy: text(200),
  revision: countSchema,
}).check(
  z.refine((s) => s.step < s.plan.steps.length, { message: "must be an index into plan.steps", path: ["step"] }),
);

// Counts since the proxy first saw the step: a histogram is cumulative (counts[0] = timed, never increasing).
const latencyCountsSchema = strict({
  boundsMs: z.array(numIn(0.001, 3_600_000)).check(z.maxLength(MAX_BOUNDS, `must have at most ${MAX_BOUNDS} bounds`), z.refine((b) => b.every((x, i) => i === 0 || x > b[i - 1]), "must be increasing")),
  counts: z.array(countSchema).check(z.minLength(1, "must have at least one count"), z.refine((c) => c.every((x, i) => i === 0 || x <= c[i - 1]), "must not increase along the buckets (they are cumulative)")),
}).check(z.refine((h) => h.counts.length === h.boundsMs.length + 1, { message: "must have one more entry than boundsMs", path: ["counts"] }));

const roleWindowSchema = strict({ requests: countSchema, errors5xx: countSchema, latency: latencyCountsSchema })
  // Only said of valid counts (a bad count is named on its own).
  .check(z.refine((r) => !(r.requests >= 0) || r.errors5xx <= r.requests, { message: "must not exceed requests", path: ["errors5xx"] }));

/** One proxy's window as stored in the window hash. */
export const windowEntrySchema = strict({ canary: roleWindowSchema, production: roleWindowSchema, at: isoSchema });
