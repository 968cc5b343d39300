// Product code throws Aviary's typed errors (core/errors.ts), never a plain Error: callers decide by
// class or code (the CLI's exit code among them), so an untyped throw would be told apart only by
// its message text. Tooling (bench/, boot/, awsRules/, bootRules/, policy/, scripts/) is not scanned.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(REPO_ROOT);
const PRODUCT = ["adapters", "agent", "app", "cli", "components", "config", "controller", "core", "discovery", "flags", "haproxy", "lambda", "local", "release", "stacks", "state", "index.ts"];

// Each entry says why the file may still throw a plain Error.
const ALLOWED: Readonly<Record<string, string>> = {
  "core/errors.ts": "defines AviaryError, the one class that extends Error",
};

// `new Error(`, `throw Error(`, `reject(Error(`, `extends Error` (not AviaryError, TypeError, ...).
const PLAIN_ERROR = /\bnew Error\(|(?<![\w.])Error\(|\bextends Error\b/g;

/** The lines of `source` that make or subclass a plain Error. */
function plainErrors(source: string): number[] {
  return source.split("\n").flatMap((line, i) => (line.match(PLAIN_ERROR) ? [i + 1] : []));
}

function sourceFiles(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!fs.statSync(full).isDirectory()) return /\.[cm]?[jt]s$/.test(entry) ? [entry] : [];
  return fs.readdirSync(full).flatMap((name) => sourceFiles(path.join(entry, name)));
}

describe("the plain-Error check", () => {
  test.each([
    ["a plain throw", 'throw new Error("x");', [1]],
    ["a plain rejection", 'reject(new Error("x"));', [1]],
    ["a throw without new", 'throw Error("x");', [1]],
    ["a subclass of Error", "export class BadThing extends Error {}", [1]],
    ["a typed throw", 'throw new InvalidInputError("x");', []],
    ["a subclass of a typed error", "export class FlagValidationError extends InvalidInputError {}", []],
    ["another built-in error", 'throw new TypeError("x");', []],
    ["a type annotation", "(err: Error) => err.message", []],
    ["an instanceof check", "if (err instanceof Error) return;", []],
    ["the second line", 'const a = 1;\nthrow new Error("x");', [2]],
  ])("%s", (_what, source, lines) => {
    expect(plainErrors(source)).toEqual(lines);
  });
});

test("no product file throws a plain Error, except the allowed ones", () => {
  const files = PRODUCT.flatMap(sourceFiles);
  expect(files.length).toBeGreaterThan(100);
  const offenders = files
    .filter((f) => !(f in ALLOWED))
    .flatMap((f) => plainErrors(fs.readFileSync(path.join(ROOT, f), "utf8")).map((line) => `${f}:${line}`));
  expect(offenders).toEqual([]);
});

test("every allowed file exists and still needs its exception", () => {
  for (const f of Object.keys(ALLOWED)) expect([f, plainErrors(fs.readFileSync(path.join(ROOT, f), "utf8")).length > 0]).toEqual([f, true]);
});
