// Reads a source file's imports for the tests that pin which folder may import which.
import * as fs from "node:fs";
import * as path from "node:path";

// import ... from "x", import "x", export ... from "x", import("x"), require("x").
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;

/** Every module specifier in `source`. */
export function importSpecifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1]);
}

// export { x } from "y", export * from "y", export type { T } from "y".
const RE_EXPORT = /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*["']([^"']+)["']/g;

/** The specifiers `source` re-exports from. */
export function reExportSpecifiers(source: string): string[] {
  return [...source.matchAll(RE_EXPORT)].map((m) => m[1]);
}

/** Every .ts/.js (and .cts/.mts/.cjs/.mjs) file under `dir`, recursively. */
export function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : /\.[cm]?[jt]s$/.test(e.name) ? [full] : [];
  });
}
