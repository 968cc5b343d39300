// Config values as Pulumi hands them over (every scalar a string), read into zod schemas: the
// stack config and the rollout plan share these so a number or a boolean reads the same everywhere.
import * as z from "zod";

/** Pulumi passes every config value as a string; numbers become numbers only when they look like one. */
export const numeric = <S extends z.core.SomeType>(schema: S) =>
  z.preprocess((v) => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v), schema);

export const integerIn = (min: number, max: number, why?: string) => {
  const error = `must be an integer from ${min} to ${max}${why ? ` (${why})` : ""}`;
  return numeric(z.number({ error }).int({ error }).min(min, { error }).max(max, { error }));
};

export const numberIn = (min: number, max: number) => {
  const error = `must be a number from ${min} to ${max}`;
  return numeric(z.number({ error }).min(min, { error }).max(max, { error }));
};

/** Pulumi hands a YAML boolean over as the string "true" or "false". */
export const booleanFlag = z.preprocess(
  (v) => (v === "true" ? true : v === "false" ? false : v),
  z.boolean({ error: "must be true or false" }),
);
