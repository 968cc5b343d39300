/**
 * What the provider serves from: the flags and segments it last read, compiled, plus the keys that
 * are stored but unreadable and have no last good version (they resolve to PARSE_ERROR). Pure, no
 * I/O: the provider reads Redis or the snapshot file and hands the results here; every method
 * returns the keys of the flags whose evaluation may have changed (for CONFIGURATION_CHANGED).
 */
import type { FlagMetadata } from "@openfeature/server-sdk";
import { compileFlag, compileSegment, type CompiledFlag, type SegmentLookup } from "../core/flags/evaluate";
import { flagsUsing, type StoredFlag, type StoredSegment } from "../core/flags/model";

export interface LoadedFlag {
  readonly stored: StoredFlag;
  readonly compiled: CompiledFlag;
  /** The flag's own metadata; undefined when the flag has none. */
  readonly metadata: FlagMetadata | undefined;
}

/** A flag to serve, or why the stored key cannot be served. */
export type FlagSlot = { readonly flag: LoadedFlag } | { readonly unreadable: string };

/** One full read of the source: what is valid, and what is stored but garbage. */
export interface FullRead {
  flags: readonly StoredFlag[];
  /** Garbage flag keys with the problem found in each. */
  invalidFlags: ReadonlyMap<string, string>;
  segments: readonly StoredSegment[];
  invalidSegments: readonly string[];
}

/** Served object values are frozen copies made by compileFlag, so no caller can change them for the next. */
export function loadFlag(stored: StoredFlag): LoadedFlag {
  return {
    stored,
    compiled: compileFlag(stored),
    metadata: stored.metadata === undefined ? undefined : Object.freeze({ ...stored.metadata }),
  };
}

const sameVersion = (a: { version: number; updatedAt: string } | undefined, b: { version: number; updatedAt: string }): boolean =>
  a !== undefined && a.version === b.version && a.updatedAt === b.updatedAt;

export class FlagSet {
  private flags = new Map<string, LoadedFlag>();
  private unreadable = new Map<string, string>();
  private segments = new Map<string, StoredSegment>();
  private compiledSegments: SegmentLookup = new Map();

  /** Number of flags that can be served. */
  get size(): number {
    return this.flags.size;
  }

  get segmentLookup(): SegmentLookup {
    return this.compiledSegments;
  }

  slot(key: string): FlagSlot | undefined {
    const flag = this.flags.get(key);
    if (flag !== undefined) return { flag };
    const problem = this.unreadable.get(key);
    return problem === undefined ? undefined : { unreadable: problem };
  }

  /** A new or changed definition of one flag. */
  putFlag(stored: StoredFlag): string[] {
    this.unreadable.delete(stored.key);
    if (sameVersion(this.flags.get(stored.key)?.stored, stored)) return [];
    this.flags.set(stored.key, loadFlag(stored));
    return [stored.key];
  }

  removeFlag(key: string): string[] {
    this.unreadable.delete(key);
    return this.flags.delete(key) ? [key] : [];
  }

  /**
   * A stored flag that does not parse: its last good version keeps being served (returns false);
   * without one the key resolves to PARSE_ERROR with `problem` (returns true).
   */
  markUnreadable(key: string, problem: string): boolean {
    if (this.flags.has(key)) return false;
    this.unreadable.set(key, problem);
    return true;
  }

  /** A new or changed segment: every flag whose rules use it may evaluate differently. */
  putSegment(stored: StoredSegment): string[] {
    if (sameVersion(this.segments.get(stored.name), stored)) return [];
    this.segments.set(stored.name, stored);
    this.compileSegments();
    return this.usersOf(stored.name);
  }

  removeSegment(name: string): string[] {
    if (!this.segments.delete(name)) return [];
    this.compileSegments();
    return this.usersOf(name);
  }

  /** Keys of the flags whose rules name `segment`, sorted. */
  usersOf(segment: string): string[] {
    return flagsUsing(segment, [...this.flags.values()].map((f) => f.stored));
  }

  /**
   * Replaces everything with a full read; garbage flags and segments keep their last good
   * version. Returns the flags that changed or whose segments changed, sorted.
   */
  replace(read: FullRead): string[] {
    const flags = new Map<string, LoadedFlag>();
    for (const f of read.flags) {
      const prev = this.flags.get(f.key);
      flags.set(f.key, prev !== undefined && sameVersion(prev.stored, f) ? prev : loadFlag(f));
    }
    const unreadable = new Map<string, string>();
    for (const [key, problem] of read.invalidFlags) {
      const prev = this.flags.get(key);
      if (prev !== undefined) flags.set(key, prev);
      else unreadable.set(key, problem);
    }
    const segments = new Map(read.segments.map((s) => [s.name, s]));
    for (const name of read.invalidSegments) {
      const prev = this.segments.get(name);
      if (prev !== undefined) segments.set(name, prev);
    }
    const changedSegments = [...new Set([...this.segments.keys(), ...segments.keys()])].filter((n) => {
      const next = segments.get(n);
      return next === undefined || !sameVersion(this.segments.get(n), next);
    });
    const changed = new Set([...this.flags.keys(), ...flags.keys()].filter((k) => this.flags.get(k) !== flags.get(k)));
    this.flags = flags;
    this.unreadable = unreadable;
    this.segments = segments;
    if (changedSegments.length > 0) this.compileSegments();
    for (const name of changedSegments) for (const key of this.usersOf(name)) changed.add(key);
    return [...changed].sort();
  }

  /** What the snapshot file keeps: the servable flags and segments, sorted. */
  contents(): { flags: StoredFlag[]; segments: StoredSegment[] } {
    return {
      flags: [...this.flags.values()].map((e) => e.stored).sort((a, b) => a.key.localeCompare(b.key)),
      segments: [...this.segments.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  private compileSegments(): void {
    this.compiledSegments = new Map([...this.segments].map(([name, s]) => [name, compileSegment(s)]));
  }
}
