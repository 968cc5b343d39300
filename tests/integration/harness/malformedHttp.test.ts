// Bad input at the front door: malformed and oversized HTTP/1.1 requests as raw bytes through
// Aviary's HAProxy config, next to nginx's answers for the same bytes (the table is in BENCHMARKS.md).
import { compareMalformed, startMalformedTargets, type MalformedRow, type MalformedTargets } from "../../../harness/malformedHttp";

let targets: MalformedTargets;
let rows: MalformedRow[];

beforeAll(async () => {
  targets = await startMalformedTargets();
  rows = await compareMalformed(targets);
}, 180_000);

afterAll(async () => {
  await targets?.stop();
});

test("the valid control request reaches the backend through both proxies", () => {
  const control = rows.filter((r) => r.valid);
  expect(control.length).toBeGreaterThan(0);
  for (const r of control) expect(r).toMatchObject({ aviary: 200, nginx: 200, reached: { aviary: 1, nginx: 1 } });
});

test("every malformed request gets a 4xx from Aviary and never reaches the backend", () => {
  const bad = rows.filter((r) => !r.valid && !r.normalisable);
  expect(bad.length).toBeGreaterThan(10);
  for (const r of bad) {
    expect({ name: r.name, reached: r.reached.aviary }).toEqual({ name: r.name, reached: 0 });
    expect({ name: r.name, status: r.aviary >= 400 && r.aviary < 500 }).toEqual({ name: r.name, status: true });
  }
});

test("ambiguous requests RFC 9112 lets a proxy normalise are refused or forwarded as exactly one request", () => {
  const amb = rows.filter((r) => r.normalisable);
  expect(amb.length).toBeGreaterThan(0);
  for (const r of amb) {
    const refused = r.aviary >= 400 && r.aviary < 500 && r.reached.aviary === 0;
    const forwardedOnce = r.aviary === 200 && r.reached.aviary === 1;
    expect({ name: r.name, ok: refused || forwardedOnce }).toEqual({ name: r.name, ok: true });
  }
});
