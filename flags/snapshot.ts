/**
 * Last-known-good flags and segments on local disk, so a process restarted during a Redis outage
 * still serves what it had (segments too: rules that use them keep matching). Written atomically
 * (tmp file + rename): a crash mid-write leaves the old file.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type * as z from "zod";
import { storedFlagSchema, storedSegmentSchema, type StoredFlag, type StoredSegment } from "../core/flags/model";

export interface Snapshot {
  savedAt: string;
  flags: StoredFlag[];
  segments: StoredSegment[];
}

export async function writeSnapshot(file: string, contents: { flags: readonly StoredFlag[]; segments: readonly StoredSegment[] }): Promise<void> {
  const body = JSON.stringify({ savedAt: new Date().toISOString(), flags: [...contents.flags], segments: [...contents.segments] } satisfies Snapshot);
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

/** The valid entries of one list; each invalid one becomes a problem naming its place. */
function validEntries<T>(file: string, field: string, list: unknown[], schema: z.ZodType<T>, problems: string[]): T[] {
  const out: T[] = [];
  list.forEach((entry, i) => {
    const parsed = schema.safeParse(entry);
    if (parsed.success) out.push(parsed.data);
    else problems.push(`${file}: ${field}[${i}] invalid: ${parsed.error.issues[0].message}`);
  });
  return out;
}

/**
 * Reads a snapshot; invalid entries are reported and skipped, an unreadable file yields undefined
 * (with the reason in problems). A missing file is not a problem: there was never one. A file
 * written before segments existed has none.
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
  const root = json as { savedAt?: unknown; flags?: unknown; segments?: unknown };
  if (typeof root !== "object" || root === null || !Array.isArray(root.flags) || typeof root.savedAt !== "string") {
    return { snapshot: undefined, problems: [`${file}: not a flag snapshot`] };
  }
  const problems: string[] = [];
  if (root.segments !== undefined && !Array.isArray(root.segments)) problems.push(`${file}: segments is not a list`);
  const flags = validEntries(file, "flags", root.flags, storedFlagSchema, problems);
  const segments = validEntries(file, "segments", Array.isArray(root.segments) ? root.segments : [], storedSegmentSchema, problems);
  return { snapshot: { savedAt: root.savedAt, flags, segments }, problems };
}
