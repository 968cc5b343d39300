// BENCHMARKS.md, the one place the bench writes it: the full run writes every section
// (`writeAll`), an entry point that measures one part replaces only its own (`writeSection`).
import fs from "node:fs";
import path from "node:path";
import { benchQuick } from "./quick";

/** BENCHMARKS.md; a quick run's figures go to an ignored file instead, so they never replace a full run's. */
export const BENCHMARKS_FILE = benchQuick()
  ? path.join(__dirname, "..", "test-output", "BENCHMARKS.quick.md")
  : path.join(__dirname, "..", "BENCHMARKS.md");

/** A section body that does not open with the heading it is written under. */
export class SectionHeadingError extends Error {
  constructor(readonly title: string) {
    super(`benchmarks: a "${title}" section must start with "## ${title}"`);
    this.name = "SectionHeadingError";
  }
}

/**
 * The title a top-level heading is found by: its text without a trailing parenthesised note, which
 * carries a run's parameters ("## Soak (local mode, 180 s)" → "Soak").
 */
export function sectionTitle(heading: string): string {
  return heading.replace(/^## /, "").replace(/ \([^)]*\)$/, "").trim();
}

/** The text before the first "## " heading, and each top-level section from its heading to the next. */
function splitSections(doc: string): { preamble: string; sections: string[] } {
  const starts = [...doc.matchAll(/^## /gm)].map((m) => m.index);
  if (starts.length === 0) return { preamble: doc, sections: [] };
  return { preamble: doc.slice(0, starts[0]), sections: starts.map((s, i) => doc.slice(s, starts[i + 1])) };
}

const titleOf = (section: string): string => sectionTitle(section.split("\n", 1)[0]);

/**
 * `doc` with the section titled `title` replaced by `body`, which starts with its "## " heading and
 * may carry further top-level sections (the proxy comparison is several): every section of `doc`
 * with one of body's titles goes, and body takes the place of the first. Every other section stays
 * byte for byte. Without any of them, body goes before the section titled `before`, or at the end.
 */
export function withSection(doc: string, title: string, body: string, before?: string): string {
  const carried = splitSections(body);
  if (carried.preamble !== "" || titleOf(carried.sections[0] ?? "") !== title) throw new SectionHeadingError(title);
  const titles = new Set(carried.sections.map(titleOf));
  const { preamble, sections } = splitSections(doc);
  const kept = sections.filter((s) => !titles.has(titleOf(s)));
  // Where the first of body's sections was (every section before it is kept), else before `before`.
  let at = sections.findIndex((s) => titles.has(titleOf(s)));
  if (at < 0 && before !== undefined) at = kept.findIndex((s) => titleOf(s) === before);
  if (at < 0) at = kept.length;
  // A blank line between sections; the section that was last gets one when body follows it.
  const text = `${body.trimEnd()}\n${at < kept.length ? "\n" : ""}`;
  if (at === kept.length && at > 0) kept[at - 1] = `${kept[at - 1].trimEnd()}\n\n`;
  const head = kept.length === 0 && preamble !== "" ? `${preamble.trimEnd()}\n\n` : preamble;
  return head + [...kept.slice(0, at), text, ...kept.slice(at)].join("");
}

/** Replaces the section titled `title` in BENCHMARKS.md with `body` (see `withSection`). */
export function writeSection(title: string, body: string, before?: string, file: string = BENCHMARKS_FILE): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, withSection(current, title, body, before));
}

/** Writes the full run: the header and every section, in order, a blank line apart. */
export function writeAll(sections: string[], file: string = BENCHMARKS_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, sections.join("\n"));
}
