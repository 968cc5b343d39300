// Reads a committed Pulumi.<stack>.yaml the way the Pulumi engine hands it to the program:
// full keys ("aviary:role"), scalars as strings, objects and lists as JSON strings.
import { readFileSync } from "node:fs";
import { parse } from "yaml";

export function readStackFile(path: string): Record<string, string> {
  const doc = parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    out[key] = typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}
