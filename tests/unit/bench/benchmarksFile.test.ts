// How a bench entry point rewrites BENCHMARKS.md: only its own "## " section changes, in place or
// appended; every other byte of the file stays.
import { REPO_ROOT } from "../../support/repoRoot";
import fs from "node:fs";
import path from "node:path";
import { SectionHeadingError, sectionTitle, withSection, writeAll, writeSection } from "../../../bench/benchmarksFile";
import { tempDir } from "../../support/tempDir";

const DOC = `# Benchmarks

Intro.

## Machine

- Date: then

## Soak (local mode, 180 s)

old soak
  
## CLI startup

| old | table |

## Fault suite (local stack under load)

old faults
`;

test.each([
  ["## Soak (local mode, 180 s)", "Soak"],
  ["## What each proxy feature costs (ablation)", "What each proxy feature costs"],
  ["## Propagation (setCanaryWeight → agent applied)", "Propagation"],
  ["## CLI startup", "CLI startup"],
  ["## Boot suite", "Boot suite"],
])("the title of %j is %j", (heading, title) => {
  expect(sectionTitle(heading)).toBe(title);
});

describe.each<{ name: string; title: string; body: string; before?: string; expected: string }>([
  {
    name: "a middle section is replaced in place, its new run parameters too",
    title: "Soak",
    body: "## Soak (local mode, 30 s)\n\nnew soak\n",
    expected: DOC.replace("## Soak (local mode, 180 s)\n\nold soak\n  \n", "## Soak (local mode, 30 s)\n\nnew soak\n\n"),
  },
  {
    name: "the last section is replaced and the file still ends in one newline",
    title: "Fault suite",
    body: "## Fault suite (local stack under load)\n\nnew faults\n\n\n",
    expected: DOC.replace("old faults\n", "new faults\n"),
  },
  {
    name: "a new section is appended after a blank line",
    title: "Boot suite",
    body: "## Boot suite\n\nboot\n",
    expected: `${DOC}\n## Boot suite\n\nboot\n`,
  },
  {
    name: "a new section goes before the one named, when there is one",
    title: "Feature flags",
    body: "## Feature flags\n\nflags\n",
    before: "CLI startup",
    expected: DOC.replace("## CLI startup", "## Feature flags\n\nflags\n\n## CLI startup"),
  },
  {
    name: "an existing section stays where it is whatever `before` says",
    title: "Fault suite",
    body: "## Fault suite (local stack under load)\n\nnew faults\n",
    before: "Soak",
    expected: DOC.replace("old faults\n", "new faults\n"),
  },
  {
    name: "a `before` that is not in the file appends",
    title: "Boot suite",
    body: "## Boot suite\n\nboot\n",
    before: "Nowhere",
    expected: `${DOC}\n## Boot suite\n\nboot\n`,
  },
  {
    name: "a body of several sections replaces each of them, in the place of the first",
    title: "Soak",
    body: "## Soak (local mode, 30 s)\n\nnew soak\n\n## CLI startup\n\nnew cli\n",
    expected: DOC.replace("## Soak (local mode, 180 s)\n\nold soak\n  \n## CLI startup\n\n| old | table |\n", "## Soak (local mode, 30 s)\n\nnew soak\n\n## CLI startup\n\nnew cli\n"),
  },
])("$name", ({ title, body, before, expected }) => {
  test("in the text", () => {
    expect(withSection(DOC, title, body, before)).toBe(expected);
  });

  test("in a file, and writing it again changes nothing", () => {
    const file = path.join(tempDir("aviary-benchmarks-"), "BENCHMARKS.md");
    fs.writeFileSync(file, DOC);
    writeSection(title, body, before, file);
    expect(fs.readFileSync(file, "utf8")).toBe(expected);
    writeSection(title, body, before, file);
    expect(fs.readFileSync(file, "utf8")).toBe(expected);
  });
});

test("in this repository's BENCHMARKS.md only the section written changes, every other byte stays", () => {
  const real = fs.readFileSync(path.join(REPO_ROOT, "BENCHMARKS.md"), "utf8");
  const start = real.indexOf("\n## Feature flags") + 1;
  const end = real.indexOf("\n## ", start) + 1;
  const body = "## Feature flags\n\nnew figures\n";
  expect(withSection(real, "Feature flags", body)).toBe(`${real.slice(0, start)}${body}\n${real.slice(end)}`);
});

test("the proxy comparison's sections are replaced and the ablation after them is kept", () => {
  const real = fs.readFileSync(path.join(REPO_ROOT, "BENCHMARKS.md"), "utf8");
  const start = real.indexOf("\n## Setup") + 1;
  const end = real.indexOf("\n## What each proxy feature costs") + 1;
  const proxy = "## Setup\n\nnew setup\n\n## Throughput and latency (medians of 3 rounds)\n\nt\n\n## Metrics loop (aviary)\n\nm\n\n## Split accuracy (aviary, weight 25)\n\ns\n\n## Propagation (setCanaryWeight → agent applied)\n\np\n";
  expect(withSection(real, "Setup", proxy, "What each proxy feature costs")).toBe(`${real.slice(0, start)}${proxy}\n${real.slice(end)}`);
});

test("a missing file is created with the section alone", () => {
  const file = path.join(tempDir("aviary-benchmarks-"), "sub", "BENCHMARKS.quick.md");
  writeSection("CLI startup", "## CLI startup\n\ncli\n", undefined, file);
  expect(fs.readFileSync(file, "utf8")).toBe("## CLI startup\n\ncli\n");
});

test.each([
  ["another title", "## CLI startup\n\ncli\n"],
  ["text before the heading", "note\n\n## Soak\n\nsoak\n"],
  ["a lower heading", "### Soak\n\nsoak\n"],
])("a body with %s is refused and the file is left alone", (_what, body) => {
  const file = path.join(tempDir("aviary-benchmarks-"), "BENCHMARKS.md");
  fs.writeFileSync(file, DOC);
  expect(() => writeSection("Soak", body, undefined, file)).toThrow(SectionHeadingError);
  expect(fs.readFileSync(file, "utf8")).toBe(DOC);
});

test("the full run writes the header and every section a blank line apart", () => {
  const file = path.join(tempDir("aviary-benchmarks-"), "BENCHMARKS.md");
  fs.writeFileSync(file, DOC);
  writeAll(["# Benchmarks\n\n## Machine\n\n- now\n", "## Soak (local mode, 30 s)\n\nsoak\n"], file);
  expect(fs.readFileSync(file, "utf8")).toBe("# Benchmarks\n\n## Machine\n\n- now\n\n## Soak (local mode, 30 s)\n\nsoak\n");
});
