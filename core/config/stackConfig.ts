// The `aviary:*` stack config contract (see docs/design.md), as one typed, validated object.
// Pure: it knows nothing about Pulumi, so the program, the local runner and the tests share it.
import * as z from "zod";
import { ConfigError, InvariantError } from "../errors";
import { WEIGHT_RULE, weightSchema } from "../routing/weight";
import { describeIssue } from "../validation/issues";
import { ACCESS_LOG_CHOICES, ACCESS_LOG_MODES } from "./accessLog";
import {
  DEFAULT_CANARY_COUNT,
  DEFAULT_DEMO_FAULTS,
  DEFAULT_INSTANCE_TYPE,
  DEFAULT_PROXY,
  DEFAULT_REDIS,
  DEFAULT_SCALING,
  DEFAULT_THRESHOLDS,
} from "./defaults";
import { CANARY_SLOTS, PROD_SLOTS } from "./proxySlots";
import { canaryWeightProblem, rolloutSchema } from "./rollout";
import { booleanFlag, integerIn, numberIn, numeric } from "./zodValues";

export { DEFAULT_CACHE_NODE_TYPE, DEFAULT_SCALING, DEFAULT_THRESHOLDS } from "./defaults";

export const CONFIG_NAMESPACE = "aviary";

/** Keys whose values are YAML objects/lists in the stack file (Pulumi hands them over as JSON). */
export const STRUCTURED_KEYS = ["prodFleet", "alerts", "thresholds", "scaling", "proxy", "redis", "rollout"] as const;
export const SCALAR_KEYS = ["role", "appVersion", "instanceType", "imageId", "canaryWeight", "canaryCount", "prodStack", "demoFaults"] as const;
export const CONFIG_KEYS = [...SCALAR_KEYS, ...STRUCTURED_KEYS] as const;

const E164 = /^\+[1-9]\d{6,14}$/;
// EC2 instance type names: family (letters, digits, optional suffixes) "." size, e.g. t3.small, m7g.2xlarge.
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
// ElastiCache node types: "cache." family "." size, e.g. cache.t4g.small, cache.r7g.large.
const CACHE_NODE_TYPE = /^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const APP_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
// A StackReference needs the fully qualified <organization>/<project>/<stack>; a DIY backend's
// organization is literally "organization".
const STACK_REFERENCE = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

// max is bounded by the proxy's production slots: an instance past them would never get traffic.
const prodFleet = z
  .object({
    min: integerIn(0, PROD_SLOTS),
    max: integerIn(1, PROD_SLOTS, "the proxy's production server slots"),
    desired: integerIn(0, PROD_SLOTS),
  })
  .strict()
  .refine((f) => f.min <= f.desired && f.desired <= f.max, {
    message: "must satisfy min <= desired <= max",
  });

const alerts = z
  .object({
    emails: z.array(z.email({ message: "must be an email address" })).default([]),
    sms: z.array(z.string().regex(E164, "must be an E.164 phone number like +14155550123")).default([]),
  })
  .strict();

const thresholds = z
  .object({
    /** Average CPU % of the production fleet above which it scales out. */
    scaleOutCpu: numberIn(1, 100).default(DEFAULT_THRESHOLDS.scaleOutCpu),
    /** Average CPU % below which it scales in. */
    scaleInCpu: numberIn(0, 99).default(DEFAULT_THRESHOLDS.scaleInCpu),
    /** Memory used % on any production instance that raises an alert. */
    memory: numberIn(1, 100).default(DEFAULT_THRESHOLDS.memory),
    /** Canary 5xx responses as a % of its requests that roll the canary back. */
    canaryErrorRate: numberIn(0.1, 100).default(DEFAULT_THRESHOLDS.canaryErrorRate),
    /** Canary p99 latency in milliseconds that rolls the canary back. */
    canaryP99Ms: numberIn(1, 60_000).default(DEFAULT_THRESHOLDS.canaryP99Ms),
  })
  .strict()
  .refine((t) => t.scaleInCpu < t.scaleOutCpu, { message: "scaleInCpu must be below scaleOutCpu" });

const scaling = z
  .object({
    /** Instances added or removed per scaling action. */
    step: integerIn(1, 10).default(DEFAULT_SCALING.step),
    scaleOutCooldownSeconds: integerIn(0, 3600).default(DEFAULT_SCALING.scaleOutCooldownSeconds),
    scaleInCooldownSeconds: integerIn(0, 3600).default(DEFAULT_SCALING.scaleInCooldownSeconds),
  })
  .strict();

const proxy = z
  .object({
    /** 1 = one proxy instance with an Elastic IP; more = an Auto Scaling group behind a Network Load Balancer. */
    count: integerIn(1, 20).default(DEFAULT_PROXY.count),
    /** Which requests HAProxy logs: "errors" (default) or "all" (one line per request; see accessLog.ts). */
    accessLog: z.enum(ACCESS_LOG_MODES, { error: `must be ${ACCESS_LOG_CHOICES}` }).default(DEFAULT_PROXY.accessLog),
  })
  .strict();

/** Where Redis runs: one EC2 instance (default) or an ElastiCache replication group. */
const redis = z
  .object({
    mode: z.enum(["ec2", "elasticache"], { error: 'must be "ec2" or "elasticache"' }).default(DEFAULT_REDIS.mode),
    nodeType: z.string().regex(CACHE_NODE_TYPE, "must be an ElastiCache node type like cache.t4g.small").optional(),
  })
  .strict()
  .refine((r) => r.nodeType === undefined || r.mode === "elasticache", { message: "nodeType applies only to mode elasticache" });

const common = {
  appVersion: z.string().regex(APP_VERSION, "must be a version label like 1.4.2 (letters, digits, . _ + -)"),
  instanceType: z.string().regex(INSTANCE_TYPE, "must be an EC2 instance type like t3.small").default(DEFAULT_INSTANCE_TYPE),
  imageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, "must be an AMI id like ami-0123456789abcdef0").optional(),
  alerts: alerts.default({ emails: [], sms: [] }),
  thresholds: thresholds.default(DEFAULT_THRESHOLDS),
  /** Whether the app honours the demo-* fault-injection flags; off on AWS unless turned on. */
  demoFaults: booleanFlag.default(DEFAULT_DEMO_FAULTS),
};

const prodSchema = z
  .object({
    role: z.literal("prod"),
    ...common,
    prodFleet,
    scaling: scaling.default(DEFAULT_SCALING),
    proxy: proxy.default(DEFAULT_PROXY),
    redis: redis.default(DEFAULT_REDIS),
  })
  .strict();

const canarySchema = z
  .object({
    role: z.literal("canary"),
    ...common,
    canaryWeight: numeric(weightSchema(`must be ${WEIGHT_RULE}`)).optional(),
    canaryCount: integerIn(1, CANARY_SLOTS, "the proxy's canary server slots").default(DEFAULT_CANARY_COUNT),
    prodStack: z.string().regex(STACK_REFERENCE, "must be the prod stack's fully qualified name <organization>/<project>/<stack>, e.g. my-org/aviary/prod (organization/aviary/prod on a DIY backend)"),
    /** A progressive rollout; without it the canary keeps its fixed canaryWeight. */
    rollout: rolloutSchema.optional(),
  })
  .strict()
  // Checked even when other fields are invalid, so every problem is reported in one run.
  .superRefine((c, ctx) => {
    const message = canaryWeightProblem(c.canaryWeight, c.rollout);
    if (message !== undefined) ctx.addIssue({ code: "custom", path: ["canaryWeight"], message });
  }, { when: () => true })
  // With a rollout the canary starts at its first step's weight.
  .transform(({ canaryWeight, ...c }) => {
    const weight = canaryWeight ?? c.rollout?.steps[0].weight;
    if (weight === undefined) throw new InvariantError("canary config: neither canaryWeight nor rollout passed the canaryWeight rule");
    return { ...c, canaryWeight: weight };
  });

const schema = z.discriminatedUnion("role", [prodSchema, canarySchema], {
  error: () => 'must be "prod" or "canary"',
});

export type ProdConfig = z.infer<typeof prodSchema>;
export type CanaryConfig = z.infer<typeof canarySchema>;
export type StackConfig = ProdConfig | CanaryConfig;
export type Thresholds = z.infer<typeof thresholds>;
export type Scaling = z.infer<typeof scaling>;
export type Alerts = z.infer<typeof alerts>;
export type RedisLayout = z.infer<typeof redis>;

/** Raw config as Pulumi (or a stack file) holds it: key without namespace → string value. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

/** The `aviary:` keys of a full config map (as Pulumi holds it), without the namespace. */
export function aviaryKeys(config: Readonly<Record<string, string>>): RawConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

export class StackConfigError extends ConfigError {
  constructor(readonly problems: string[]) {
    super(`Invalid Aviary stack config:\n  - ${problems.join("\n  - ")}`);
  }
}

function keyName(path: readonly PropertyKey[]): string {
  const [head, ...rest] = path.map(String);
  return [`${CONFIG_NAMESPACE}:${head ?? "<root>"}`, ...rest].join(".");
}

/** One problem line, the field named by its full key ("aviary:thresholds.memory: ..."). */
function problem(path: readonly PropertyKey[], message: string): string {
  return describeIssue({ path, message }, { name: keyName });
}

function received(input: unknown, path: PropertyKey[]): string {
  let v: unknown = input;
  for (const p of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v === undefined ? "missing" : `got ${JSON.stringify(v)}`;
}

/**
 * Turns raw config into a typed StackConfig, or throws a StackConfigError naming every bad key and
 * its rule. Structured keys are JSON strings (that is how Pulumi stores YAML objects).
 */
export function parseStackConfig(raw: RawConfig): StackConfig {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      problems.push(problem([key], `is not an Aviary config key (known: ${CONFIG_KEYS.join(", ")})`));
      continue;
    }
    if ((STRUCTURED_KEYS as readonly string[]).includes(key)) {
      try {
        input[key] = JSON.parse(value);
      } catch {
        problems.push(problem([key], `must be a YAML object (got ${JSON.stringify(value)})`));
      }
    } else {
      input[key] = value;
    }
  }
  if (problems.length === 0) {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      if (issue.code === "unrecognized_keys") {
        // Name the key itself: a known key that belongs to the other role, or a misspelt field.
        for (const key of issue.keys) {
          problems.push(issue.path.length === 0
            ? problem([key], `is not a key of the ${String(input.role)} stack`)
            : problem(issue.path, `unknown field ${JSON.stringify(key)}`));
        }
        continue;
      }
      const got = received(input, issue.path);
      const detail = got !== "missing" ? `${issue.message} (${got})` : issue.code === "invalid_type" ? "is required" : issue.message;
      problems.push(problem(issue.path, detail));
    }
  }
  throw new StackConfigError(problems);
}
