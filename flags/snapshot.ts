/**
 * Last-known-good flags on local disk, so a process restarted during a Redis outage still serves
 * the flags it had. Written atomically (tmp file + rename): a crash mid-write leaves the old file.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { storedFlagSchema, type StoredFlag } from "../core/flags/model";

export interface Snapshot {
  savedAt: string;
  flags: StoredFlag[];
}

export async function writeSnapshot(file: string, flags: readonly StoredFlag[]): Promise<void> {
  const body = JSON.stringify({ savedAt: new Date().toISOString(), flags: [...flags] } satisfies Snapshot);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await fs.writeFile(tmp, body, { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Reads a snapshot; invalid entries are reported and skipped, an unreadable file yields undefined
 * (with the reason in problems). A missing file is not a problem: there was never one.
 */
export async function readSnapshot(file: string): Promise<{ snapshot: Snapshot | undefined; problems: string[] }> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { snapshot: undefined, problems: [] };
    return { snapshot: undefined, problems: [`${file}: ${(err as Error).message}`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { snapshot: undefined, problems: [`${file}: not JSON`] };
  }
  const root = json as { savedAt?: unknown; flags?: unknown };
  if (typeof root !== "object" || root === null || !Array.isArray(root.flags) || typeof root.savedAt !== "string") {
    return { snapshot: undefined, problems: [`${file}: not a flag snapshot`] };
  }
  const problems: string[] = [];
  const flags: StoredFlag[] = [];
  root.flags.forEach((f: unknown, i: number) => {
    const parsed = storedFlagSchema.safeParse(f);
    if (parsed.success) flags.push(parsed.data);
    else problems.push(`${file}: flags[${i}] invalid: ${parsed.error.issues[0].message}`);
  });
  return { snapshot: { savedAt: root.savedAt, flags }, problems };
}
