// What local mode keeps in .aviary/ between starts (files only, no processes).
import * as fs from "node:fs";
import * as path from "node:path";
import { openKeptState, readApplied, writeApplied } from "../../../local/keptState";
import { tempDir } from "../../support/tempDir";

const dir = (): string => tempDir("aviary-kept-");
const mode = (f: string): number => fs.statSync(f).mode & 0o777;

test("the Redis password is generated once, kept 0600, and survives fresh", () => {
  const d = dir();
  const first = openKeptState(d, false);
  expect(first.password).toMatch(/^[0-9a-f]{32}$/);
  expect(mode(path.join(d, "redis-password"))).toBe(0o600);
  expect(openKeptState(d, false).password).toBe(first.password);
  expect(openKeptState(d, true).password).toBe(first.password);
});

test("a password file loosened by hand is tightened back to 0600; an empty one is replaced", () => {
  const d = dir();
  fs.writeFileSync(path.join(d, "redis-password"), "\n", { mode: 0o644 });
  const kept = openKeptState(d, false);
  expect(kept.password).toMatch(/^[0-9a-f]{32}$/);
  expect(mode(path.join(d, "redis-password"))).toBe(0o600);
});

test("the last applied config is kept in data/ and fresh forgets it with Redis's data", () => {
  const d = dir();
  const kept = openKeptState(d, false);
  expect(readApplied(kept.dataDir)).toBeUndefined();
  writeApplied(kept.dataDir, { canaryWeight: 40 });
  expect(readApplied(kept.dataDir)).toEqual({ canaryWeight: 40 });
  expect(mode(path.join(kept.dataDir, "applied.json"))).toBe(0o600);
  fs.mkdirSync(kept.redisDir, { recursive: true });
  fs.writeFileSync(path.join(kept.redisDir, "appendonly.aof"), "x");
  const fresh = openKeptState(d, true);
  expect(readApplied(fresh.dataDir)).toBeUndefined();
  expect(fs.existsSync(path.join(fresh.redisDir, "appendonly.aof"))).toBe(false);
});
