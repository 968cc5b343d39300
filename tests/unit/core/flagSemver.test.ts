// Semantic-version parsing and precedence (semver.org 2.0.0 §11), checked against a table written
// from the specification and against the `semver` package as an oracle on generated versions.
import semver from "semver";
import { conditionSchema } from "../../../core/flags/model";
import { compareSemver, parseSemver } from "../../../core/flags/semver";
import { prng } from "../../../harness/judgeStreams";

const cmp = (a: string, b: string): number => compareSemver(parseSemver(a)!, parseSemver(b)!);

// §11's own example chain, then the corners of each rule.
const ASCENDING = [
  "0.0.0",
  "0.0.1",
  "0.1.0",
  "0.9.9",
  "0.10.0",
  "1.0.0-0",
  "1.0.0-1",
  "1.0.0-2",
  "1.0.0-10",
  "1.0.0-B",
  "1.0.0-a",
  "1.0.0-alpha",
  "1.0.0-alpha.1",
  "1.0.0-alpha.beta",
  "1.0.0-beta",
  "1.0.0-beta.2",
  "1.0.0-beta.11",
  "1.0.0-rc.1",
  "1.0.0",
  "1.0.1",
  "1.2.0",
  "1.10.0",
  "2.0.0-rc.1",
  "2.0.0",
  "10.0.0",
  "9007199254740991.0.0",
];

describe("precedence", () => {
  test.each(ASCENDING.slice(1).map((v, i) => [ASCENDING[i], v]))("%s < %s", (lower, higher) => {
    expect(cmp(lower, higher)).toBe(-1);
    expect(cmp(higher, lower)).toBe(1);
    expect(semver.compare(lower, higher)).toBe(-1);
  });

  test.each<[string, string, -1 | 0 | 1, string]>([
    ["1.0.0+build.1", "1.0.0+build.2", 0, "build metadata is ignored"],
    ["1.0.0-rc.1+a", "1.0.0-rc.1", 0, "build metadata is ignored on a prerelease"],
    ["v1.2.3", "1.2.3", 0, "a leading v is allowed and means nothing"],
    ["1.0.0-alpha", "1.0.0-alpha.0", -1, "fewer identifiers lose when the prefix is equal"],
    ["1.0.0-1.2", "1.0.0-1.10", -1, "numeric identifiers compare as numbers"],
    ["1.0.0-x.10", "1.0.0-x.9", 1, "numeric identifiers compare as numbers, deeper in"],
    ["1.0.0-999", "1.0.0-a", -1, "numeric below alphanumeric"],
    ["1.0.0-0a", "1.0.0-1", 1, "digits then a letter is alphanumeric"],
    ["1.0.0-alpha-1", "1.0.0-alpha0", -1, "ASCII: hyphen before digits"],
    ["1.0.0-Z", "1.0.0-a", -1, "ASCII: upper case before lower case"],
    ["1.0.0-rc.1", "1.0.0", -1, "a prerelease is below its release"],
    ["1.0.1-0", "1.0.0", 1, "a prerelease of a later patch is above the earlier release"],
    ["2.1.0", "2.1.0", 0, "equal"],
  ])("%s vs %s is %i: %s", (a, b, expected) => {
    expect(cmp(a, b)).toBe(expected);
    expect(cmp(b, a)).toBe(-expected || 0);
    expect(semver.compare(a, b)).toBe(expected);
  });
});

describe("parsing", () => {
  test("a version's parts", () => {
    expect(parseSemver("v3.20.1-beta.11.x-y+exp.sha.5114f85")).toEqual({ major: 3, minor: 20, patch: 1, prerelease: ["beta", 11, "x-y"] });
    expect(parseSemver("0.0.0")).toEqual({ major: 0, minor: 0, patch: 0, prerelease: [] });
  });

  test.each([
    ["", "empty"],
    ["1", "one part"],
    ["1.2", "two parts"],
    ["1.2.3.4", "four parts"],
    ["01.2.3", "leading zero in major"],
    ["1.02.3", "leading zero in minor"],
    ["1.2.03", "leading zero in patch"],
    ["1.2.3-01", "leading zero in a numeric prerelease identifier"],
    ["1.2.3-", "empty prerelease"],
    ["1.2.3-a..b", "empty prerelease identifier"],
    ["1.2.3+", "empty build"],
    ["1.2.3+a..b", "empty build identifier"],
    ["1.2.3-a_b", "an underscore"],
    ["V1.2.3", "capital V"],
    ["vv1.2.3", "two v"],
    ["=1.2.3", "an = prefix"],
    ["-1.2.3", "a negative major"],
    ["1.2.x", "a wildcard"],
    ["latest", "a word"],
    ["9007199254740992.0.0", "a major beyond 2^53"],
    ["1.2.3-9007199254740992", "a numeric identifier beyond 2^53"],
    [`1.2.3-${"a".repeat(300)}`, "longer than 256 characters"],
  ])("%j is not a version (%s)", (text) => {
    expect(parseSemver(text)).toBeUndefined();
  });

  test.each([" 1.2.3", "1.2.3 ", "\t1.2.3"])("%j is not a version (white space; the semver package trims it)", (text) => {
    expect(parseSemver(text)).toBeUndefined();
    expect(semver.valid(text)).not.toBeNull();
  });

  test("a huge string is refused without scanning it", () => {
    const huge = `1.2.3-${"1".repeat(5_000_000)}`;
    const t0 = process.hrtime.bigint();
    expect(parseSemver(huge)).toBeUndefined();
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(50);
  });
});

describe("against the semver package", () => {
  const rand = prng(19);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  // Small pools, so equal cores and shared prerelease prefixes (the interesting cases) are common.
  const NUMBERS = ["0", "1", "2", "9", "10", "11", "100", "9007199254740991"];
  const IDENTIFIERS = ["0", "1", "2", "10", "11", "alpha", "beta", "rc", "a", "A", "Z", "z", "-", "a-b", "0a", "1b", "x9", "--"];
  const version = (): string => {
    const core = [pick(NUMBERS), pick(NUMBERS), pick(NUMBERS)].join(".");
    const pre = rand() < 0.6 ? `-${Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(IDENTIFIERS)).join(".")}` : "";
    const build = rand() < 0.2 ? `+${pick(["b1", "001", "exp.sha.5114f85"])}` : "";
    return `${rand() < 0.1 ? "v" : ""}${core}${pre}${build}`;
  };

  test("the same order on 4,000 generated pairs", () => {
    const versions = Array.from({ length: 2_000 }, version);
    const disagreements: string[] = [];
    let unequal = 0;
    for (let i = 0; i < versions.length; i++) {
      for (const j of [(i + 1) % versions.length, Math.floor(rand() * versions.length)]) {
        const [a, b] = [versions[i], versions[j]];
        const ours = cmp(a, b);
        if (ours !== 0) unequal++;
        if (ours !== semver.compare(a, b)) disagreements.push(`${a} vs ${b}: ours ${ours}, semver ${semver.compare(a, b)}`);
      }
    }
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(unequal).toBeGreaterThan(3_000); // the pairs are mostly distinct, not a trivially equal set
  });

  test("sorting generated versions gives the package's order", () => {
    const versions = Array.from({ length: 1_000 }, version);
    const ours = [...versions].sort((a, b) => cmp(a, b) || a.localeCompare(b));
    const theirs = [...versions].sort((a, b) => semver.compare(a, b) || a.localeCompare(b));
    expect(ours).toEqual(theirs);
  });

  test("the same verdict on validity for 20,000 generated strings", () => {
    const ALPHABET = "0123456789..--+av1bZ";
    const texts = Array.from({ length: 20_000 }, () => {
      // Half built from version-like pieces so that many are valid, half random characters.
      if (rand() < 0.5) return version().replace(/./g, (c) => (rand() < 0.05 ? pick([...ALPHABET]) : c));
      return Array.from({ length: 1 + Math.floor(rand() * 14) }, () => pick([...ALPHABET])).join("");
    });
    const disagreements = texts.filter((t) => (parseSemver(t) !== undefined) !== (semver.valid(t) !== null));
    expect(disagreements.slice(0, 10)).toEqual([]);
    // The rule values the model accepts are exactly the texts the parser reads.
    const accepted = (t: string): boolean => conditionSchema.safeParse({ attribute: "version", op: "semverGte", value: t }).success;
    expect(texts.filter((t) => (parseSemver(t) !== undefined) !== accepted(t)).slice(0, 10)).toEqual([]);
    expect(accepted("9007199254740993.0.0")).toBe(false);
    expect(texts.filter((t) => parseSemver(t) !== undefined).length).toBeGreaterThan(5_000);
  });
});
