// Which requests the proxy logs: a stack-config choice (`aviary:proxy.accessLog`) that the HAProxy
// template renders (haproxy/config.ts).

/**
 * "errors": only requests that went wrong (5xx, timeouts, retries, redispatches, aborts) are logged
 * (HAProxy's `option dontlog-normal`); every request is still counted in the stats, metrics and
 * latency histogram. "all": one line per request. "errors" is the default because a line per
 * request costs measurably more proxy CPU per request (the access-log ablation in BENCHMARKS.md) and, on AWS, journald's default
 * rate limit (10,000 lines per 30 s per service) would drop lines, the error ones included, past
 * ~330 req/s anyway.
 */
export const ACCESS_LOG_MODES = ["errors", "all"] as const;
export type AccessLog = (typeof ACCESS_LOG_MODES)[number];
/** The modes as an error message lists them: "errors" or "all". */
export const ACCESS_LOG_CHOICES = ACCESS_LOG_MODES.map((m) => JSON.stringify(m)).join(" or ");
