// The canary judge: a verdict per metric and overall from the same window's counts, with the numbers
// it used; too small a sample is inconclusive whatever it shows; a canary no worse than production
// never fails, a clearly worse one does; input no proxy could produce is a typed error naming it.
import { InvalidInputError } from "../../../core/errors";
import { DEFAULT_ANALYSIS, judge, type AnalysisSettings, type JudgeInput, type RoleWindow } from "../../../core/rollout/judge";
import { latencyBoundsMs } from "../../../haproxy/config";
import { prng, runStream, type StreamSpec } from "../../../harness/judgeStreams";

const BOUNDS = latencyBoundsMs(1500); // 5 10 25 50 100 250 500 1000 1500 2500 5000 10000 30000

/** A histogram of `n` responses, `slowFrom[i]` of them ≥ BOUNDS[i] (missing bounds: none). */
function hist(n: number, slowFrom: Partial<Record<number, number>> = {}): { boundsMs: number[]; counts: number[] } {
  return { boundsMs: BOUNDS, counts: [n, ...BOUNDS.map((b) => slowFrom[b] ?? 0)] };
}

/** A role with latencies all in 25–50 ms but for the slow ones given. */
function role(requests: number, errors5xx: number, slow: Partial<Record<number, number>> = {}): RoleWindow {
  return { requests, errors5xx, latency: hist(requests, { 5: requests, 10: requests, 25: requests, ...slow }) };
}

const S: AnalysisSettings = DEFAULT_ANALYSIS;

describe("5xx: canary against production", () => {
  test.each<[string, RoleWindow, RoleWindow]>([
    ["0 of 10 is not healthy", role(10, 0), role(10_000, 100)],
    ["1 of 20 is not failed", role(20, 1), role(200, 0)],
    ["even 50 of 50 is not failed", role(50, 50), role(10_000, 100)],
    ["nor is 0 of 99 healthy against a production in flames", role(99, 0), role(10_000, 10_000)],
    ["with production below the minimum, a failing canary is not failed either", role(1000, 1000), role(99, 0)],
  ])("below the minimum sample, whatever the counts: %s (inconclusive)", (_what, canary, production) => {
    expect(judge({ canary, production }, S).errorRate.verdict).toBe("inconclusive");
  });

  test.each<[string, RoleWindow, RoleWindow, "pass" | "fail" | "inconclusive"]>([
    ["1 of 100 against 1 % is neither, yet", role(100, 1), role(1000, 10), "inconclusive"],
    ["+5 points (6 % against 1 %) over 1,000 requests fails", role(1000, 60), role(10_000, 100), "fail"],
    ["+5 points over only 100 requests is not yet confident", role(100, 6), role(1000, 10), "inconclusive"],
    ["everything failing on both sides is no worse", role(1000, 1000), role(10_000, 10_000), "pass"],
    ["1 % against 1 % over many requests passes within 0.5 points", role(100_000, 1000), role(1_000_000, 10_000), "pass"],
    ["+1 point over many requests fails a 0.5-point allowance", role(100_000, 2000), role(1_000_000, 10_000), "fail"],
    ["+0.3 point is within 0.5 points: never a fail", role(1_000_000, 13_000), role(10_000_000, 100_000), "pass"],
  ])("%s", (_what, canary, production, verdict) => {
    expect(judge({ canary, production }, S).errorRate.verdict).toBe(verdict);
  });

  test.each([
    [100, 0],
    [100, 1],
    [1000, 10],
    [5000, 250],
    [20_000, 200],
    [1_000_000, 10_000],
    [3_000_000_000, 30_000_000],
  ])("identical canary and production (%d requests, %d 5xx on the canary; ×10 on production) never fail, even with no allowance", (n, k) => {
    const r = judge({ canary: role(n, k), production: role(10 * n, 10 * k) }, { ...S, maxErrorRateIncreasePoints: 0 });
    expect(r.errorRate.verdict).not.toBe("fail");
    expect(r.verdict).not.toBe("fail");
  });

  test("a fail records the counts, rates, difference, allowance and evidence it used", () => {
    const r = judge({ canary: role(1000, 60), production: role(10_000, 100) }, S);
    expect(r.verdict).toBe("fail");
    expect(r.errorRate).toMatchObject({ canary: { requests: 1000, errors5xx: 60, ratePercent: 6 }, production: { requests: 10_000, errors5xx: 100, ratePercent: 1 }, allowedPoints: 0.5 });
    expect(r.errorRate.differencePoints).toBeCloseTo(5, 10);
    // Two metrics share α = 0.01: the bar is ln(2 / 0.01).
    expect(r.errorRate.evidence.lnThreshold).toBeCloseTo(Math.log(200), 10);
    expect(r.errorRate.evidence.lnFail).toBeGreaterThanOrEqual(r.errorRate.evidence.lnThreshold);
    expect(r.errorRate.evidence.lnPass).toBeLessThan(0);
    expect(r.errorRate.reason).toBe("canary 60/1000 5xx (6.00 %), production 100/10000 (1.00 %): more than 0.5 points worse");
  });

  test("below the minimum sample the reason says what is missing", () => {
    expect(judge({ canary: role(10, 0), production: role(10_000, 100) }, S).errorRate.reason).toBe("canary 0/10 5xx (0.00 %), production 100/10000 (1.00 %): needs 100 requests per role");
  });
});

describe("latency: the canary's quantile against production's, at bucket level", () => {
  test("identical latencies never fail; with enough requests they pass", () => {
    const r = judge({ canary: role(5000, 0, { 50: 400, 100: 40 }), production: role(50_000, 0, { 50: 4000, 100: 400 }) }, S);
    expect(r.latency).toMatchObject({ verdict: "pass", boundMs: 250, canary: { quantileMs: { from: 50, to: 100 } }, production: { quantileMs: { from: 50, to: 100 } } });
  });

  test("a canary whose p99 is past 1.5 × production's bucket top fails, with the bound and counts it used", () => {
    // Production p99 in 50–100 ms, so the bound is the first ≥ 150 ms: 250. 5 % of the canary's responses take ≥ 250 ms.
    const r = judge({ canary: role(2000, 0, { 50: 400, 100: 200, 250: 100 }), production: role(20_000, 0, { 50: 1000, 100: 100 }) }, S);
    expect(r.verdict).toBe("fail");
    expect(r.latency).toMatchObject({ verdict: "fail", quantile: 0.99, boundMs: 250, allowedRatio: 1.5, canary: { timed: 2000, atOrAboveBound: 100, quantileMs: { from: 250, to: 500 } }, production: { timed: 20_000, quantileMs: { from: 50, to: 100 } } });
    expect(r.latency.reason).toContain("100 canary responses ≥ 250 ms: canary p99 is ≥ 250 ms");
  });

  test("the same slow canary over fewer responses than the minimum is inconclusive", () => {
    const r = judge({ canary: role(60, 0, { 50: 30, 100: 20, 250: 10 }), production: role(20_000, 0, { 50: 1000, 100: 100 }) }, S);
    expect(r.latency.verdict).toBe("inconclusive");
    expect(r.latency.reason).toContain("needs 100 timed responses per role");
  });

  test("a slowdown that stays below the bound cannot be seen: the histogram only tells buckets apart", () => {
    // ×2 within production's bucket neighbourhood: canary p99 in 100–250, production's in 50–100: bound 250.
    const r = judge({ canary: role(20_000, 0, { 50: 4000, 100: 1000 }), production: role(20_000, 0, { 50: 1000, 100: 100 }) }, S);
    expect(r.latency.verdict).not.toBe("fail");
  });

  test("production's quantile above the top bound leaves nothing to compare: inconclusive, no bound", () => {
    const all = Object.fromEntries(BOUNDS.map((b) => [b, 1000]));
    const r = judge({ canary: role(1000, 0, all), production: role(1000, 0, all) }, S);
    expect(r.latency).toMatchObject({ verdict: "inconclusive", boundMs: null, evidence: null, production: { quantileMs: { from: 30_000, to: null } } });
  });

  test("nothing timed is inconclusive", () => {
    const r = judge({ canary: { requests: 0, errors5xx: 0, latency: hist(0) }, production: { requests: 0, errors5xx: 0, latency: hist(0) } }, S);
    expect(r).toMatchObject({ verdict: "inconclusive", errorRate: { verdict: "inconclusive" }, latency: { verdict: "inconclusive", canary: { quantileMs: null } } });
  });
});

test("overall: fail if any metric fails, pass only when both pass", () => {
  const good = role(100_000, 1000, { 50: 2000, 100: 200 });
  const prod = role(1_000_000, 10_000, { 50: 20_000, 100: 2000 });
  expect(judge({ canary: good, production: prod }, S).verdict).toBe("pass");
  expect(judge({ canary: { ...good, errors5xx: 3000 }, production: prod }, S).verdict).toBe("fail");
  expect(judge({ canary: role(100, 1), production: prod }, S).verdict).toBe("inconclusive");
});

describe("input no proxy could produce is a typed error naming the problem", () => {
  const ok: JudgeInput = { canary: role(100, 1), production: role(1000, 10) };
  test.each<[string, JudgeInput, AnalysisSettings, string]>([
    ["negative requests", { ...ok, canary: { ...ok.canary, requests: -1 } }, S, "canary.requests must be a count (an integer ≥ 0), got -1"],
    ["fractional 5xx", { ...ok, production: { ...ok.production, errors5xx: 1.5 } }, S, "production.errors5xx must be a count (an integer ≥ 0), got 1.5"],
    ["more 5xx than requests", { ...ok, canary: { ...ok.canary, errors5xx: 101 } }, S, "canary.errors5xx (101) exceeds canary.requests (100)"],
    ["mismatched bucket bounds", { ...ok, canary: { ...ok.canary, latency: { boundsMs: latencyBoundsMs(1000), counts: new Array(13).fill(0) } } }, S, "canary.latency.boundsMs (5,10,25,50,100,250,500,1000,2500,5000,10000,30000) differ from production.latency.boundsMs (5,10,25,50,100,250,500,1000,1500,2500,5000,10000,30000): the histograms cannot be compared"],
    ["counts of the wrong length", { ...ok, production: { ...ok.production, latency: { boundsMs: BOUNDS, counts: [1, 0] } } }, S, "production.latency.counts has 2 entries, its 13 bounds need 14"],
    ["counts that increase", { ...ok, canary: { ...ok.canary, latency: hist(10, { 100: 20 }) } }, S, "canary.latency.counts must not increase along the buckets (they are cumulative)"],
    ["unsorted bounds", { canary: { ...ok.canary, latency: { boundsMs: [10, 5], counts: [0, 0, 0] } }, production: { ...ok.production, latency: { boundsMs: [10, 5], counts: [0, 0, 0] } } }, S, "canary.latency.boundsMs must be positive and increasing"],
    ["alpha of 0", ok, { ...S, alpha: 0 }, "settings.alpha must be in (0, 1), got 0"],
    ["a quantile of 1", ok, { ...S, latencyQuantile: 1 }, "settings.latencyQuantile must be in (0, 1), got 1"],
    ["a latency ratio below 1", ok, { ...S, maxLatencyRatio: 0.5 }, "settings.maxLatencyRatio must be a finite ratio ≥ 1, got 0.5"],
    ["a minimum sample of 0", ok, { ...S, minRequests: 0 }, "settings.minRequests must be an integer ≥ 1, got 0"],
    ["a negative allowance", ok, { ...S, maxErrorRateIncreasePoints: -1 }, "settings.maxErrorRateIncreasePoints must be a number of points in [0, 100), got -1"],
  ])("%s", (_what, input, settings, problem) => {
    let thrown: unknown;
    try {
      judge(input, settings);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect((thrown as Error).message.replace(/^judge: /, "").split("\n")).toContain(problem);
  });

  test("every problem is named, one per line", () => {
    expect(() => judge({ canary: { ...ok.canary, requests: -1 }, production: { ...ok.production, errors5xx: 2000 } }, { ...S, alpha: 2 })).toThrow(
      "judge: settings.alpha must be in (0, 1), got 2\ncanary.requests must be a count (an integer ≥ 0), got -1\nproduction.errors5xx (2000) exceeds production.requests (1000)",
    );
  });
});

test("any valid input gets a verdict with finite numbers, never a throw", () => {
  const rand = prng(7);
  const count = (max: number): number => Math.floor(rand() ** 3 * max);
  for (let i = 0; i < 2000; i++) {
    const window = (): RoleWindow => {
      const requests = count(rand() < 0.1 ? 4e9 : 1e5);
      const counts = [requests];
      for (let b = 0; b < BOUNDS.length; b++) counts.push(Math.floor(counts[b] * rand() ** 2));
      return { requests, errors5xx: Math.floor(requests * rand() ** 4), latency: { boundsMs: BOUNDS, counts } };
    };
    const settings: AnalysisSettings = { maxErrorRateIncreasePoints: rand() * 10, latencyQuantile: 0.5 + rand() * 0.499, maxLatencyRatio: 1 + rand() * 3, minRequests: 1 + count(500), alpha: 0.001 + rand() * 0.2 };
    const r = judge({ canary: window(), production: window() }, settings);
    expect(["pass", "fail", "inconclusive"]).toContain(r.verdict);
    const e = [r.errorRate.evidence, ...(r.latency.evidence === null ? [] : [r.latency.evidence])];
    for (const x of e) expect([x.lnFail, x.lnPass, x.lnThreshold].every((v) => !Number.isNaN(v) && v !== Infinity)).toBe(true);
  }
});

describe("judged every second (seeded simulation: 20 canary and 200 production requests/s, 1 % 5xx)", () => {
  const clean: StreamSpec = { seconds: 300, canaryPerSecond: 20, productionPerSecond: 200, productionErrorRate: 0.01, canaryErrorRate: 0.01, latencyMedianMs: 50, latencySigma: 0.6, canaryLatencyFactor: 1, boundsMs: BOUNDS };

  /** P(X ≥ k) for X ~ Binomial(n, p). */
  const binomialTail = (n: number, p: number, k: number): number => {
    let below = 0;
    let term = (1 - p) ** n;
    for (let i = 0; i < k; i++) {
      below += term;
      term *= ((n - i) / (i + 1)) * (p / (1 - p));
    }
    return 1 - below;
  };

  test("200 clean streams, 300 looks each, no allowance: false fails within what α = 0.01 allows", () => {
    // Ville's inequality bounds each stream's chance of ever failing by α, however many looks; the
    // streams are independent, so the count is at most Binomial(200, 0.01) (mean 2). More than 6
    // would happen to a sound test with probability below 0.5 %: 6 is the bound.
    expect(binomialTail(200, 0.01, 7)).toBeLessThan(0.005);
    const settings = { ...DEFAULT_ANALYSIS, maxErrorRateIncreasePoints: 0, alpha: 0.01 };
    const falseFails = Array.from({ length: 200 }, (_, i) => runStream(clean, settings, 1000 + i)).filter((o) => o.failAt !== null).length;
    expect(falseFails).toBeLessThanOrEqual(6);
  });

  test("a production incident that hits both roles (30 % 5xx for 10 s) does not fail the canary: same bound", () => {
    const settings = { ...DEFAULT_ANALYSIS, maxErrorRateIncreasePoints: 0 };
    const spec = { ...clean, sharedIncident: { from: 100, to: 110, errorRate: 0.3 } };
    const outcomes = Array.from({ length: 200 }, (_, i) => runStream(spec, settings, 3000 + i));
    expect(outcomes.every((o) => o.canaryErrors > 50)).toBe(true);
    expect(outcomes.filter((o) => o.failAt !== null).length).toBeLessThanOrEqual(6);
  });

  test("+5 points of 5xx is failed in every one of 50 streams within the 300 looks", () => {
    const outcomes = Array.from({ length: 50 }, (_, i) => runStream({ ...clean, canaryErrorRate: 0.06 }, DEFAULT_ANALYSIS, 5000 + i));
    expect(outcomes.filter((o) => o.failAt === null)).toEqual([]);
    expect(outcomes.every((o) => o.last?.errorRate.verdict === "fail")).toBe(true);
  });
});
