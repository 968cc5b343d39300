// Reading tunables from a process environment. Pure: callers pass the environment in.
import { ConfigError } from "./errors";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * An integer environment variable within [min, max]; unset or empty gives `fallback`; anything else
 * throws naming it. `who` prefixes the message when the reader is not the process itself.
 */
export function intFromEnv(env: Env, name: string, fallback: number, min: number, max: number, who?: string): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${who === undefined ? "" : `${who}: `}${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return n;
}
