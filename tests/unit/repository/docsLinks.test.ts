// The README is the front door and docs/ holds the rest: every relative link in them must reach a
// file of this repository (and a heading there, when it names one), and the README stays short.
import { REPO_ROOT } from "../../support/repoRoot";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(REPO_ROOT);
const README_MAX_LINES = 200;

/** Markdown outside fenced code blocks, with inline code spans blanked (their brackets are not links). */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) lines.push(line.replace(/`[^`]*`/g, "x"));
  }
  return lines;
}

/** Link targets of inline links `[text](target)`. */
function linksIn(markdown: string): string[] {
  return prose(markdown).flatMap((line) => [...line.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The relative links of a Markdown file that reach no file under root, or no heading in the file they name. */
function brokenLinks(file: string, root: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  return linksIn(text)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .filter((target) => {
      const [rel, anchor] = target.split("#", 2);
      const resolved = rel === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rel));
      if (!resolved.startsWith(root + path.sep) || !fs.existsSync(resolved)) return true;
      if (anchor === undefined || !resolved.endsWith(".md")) return false;
      return !anchorsIn(fs.readFileSync(resolved, "utf8")).has(anchor);
    });
}

const DOC_FILES = [
  path.join(ROOT, "README.md"),
  ...fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => path.join(ROOT, "docs", f)),
];

describe("the link checker", () => {
  test.each([
    ["## Local mode (`npm start`)", "local-mode-npm-start"],
    ["## The `aviary` CLI", "the-aviary-cli"],
    ["## Running a release: from scratch to teardown", "running-a-release-from-scratch-to-teardown"],
    ["# Feature flags (`flags/`, `state/flags.ts`)", "feature-flags-flags-stateflagsts"],
    ["### Tear down", "tear-down"],
  ])("%s has the anchor %s", (heading, anchor) => {
    expect([...anchorsIn(heading)]).toEqual([anchor]);
  });

  test("a repeated heading gets a numbered anchor, and headings inside code blocks are none", () => {
    expect([...anchorsIn("## Alarms\n\n```sh\n# Redis takes it\n```\n\n## Alarms")]).toEqual(["alarms", "alarms-1"]);
  });

  test("links are read from prose only: not from code blocks or inline code", () => {
    const markdown = "See [a](docs/a.md#x) and [`b`](../b.md).\n`[c](c.md)`\n```\n[d](d.md)\n```\n[e](https://example.com)";
    expect(linksIn(markdown)).toEqual(["docs/a.md#x", "../b.md", "https://example.com"]);
  });

  test("a link to a missing file or a missing heading is reported; a good one is not", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aviary-docsLinks-"));
    try {
      const file = path.join(dir, "page.md");
      fs.writeFileSync(path.join(dir, "other.md"), "# Other\n\n## Some part\n");
      fs.writeFileSync(file, "# Page\n[ok](other.md#some-part) [self](#page) [gone](missing.md) [nohead](other.md#nowhere) [out](../x.md) [web](https://x.test)\n");
      expect(brokenLinks(file, dir)).toEqual(["missing.md", "other.md#nowhere", "../x.md"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("README.md and docs/", () => {
  test("the README links every page in docs/", () => {
    const linked = new Set(linksIn(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).map((target) => target.split("#")[0]));
    const pages = DOC_FILES.slice(1).map((f) => path.relative(ROOT, f));
    expect(pages.length).toBeGreaterThanOrEqual(9);
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });

  test.each(DOC_FILES.map((f) => [path.relative(ROOT, f), f]))("every relative link in %s resolves", (_name, file) => {
    expect(brokenLinks(file, ROOT)).toEqual([]);
  });

  test(`README.md is a front door: at most ${README_MAX_LINES} lines`, () => {
    const lines = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});
