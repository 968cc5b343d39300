import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { run } from "../../../cli/main";
import { booleanFlag } from "../../../core/flags/model";
import { freePort } from "../../../harness/freePort";
import { tempDir } from "../../support/tempDir";

interface Result {
  code: number;
  stderr: string;
  ms: number;
}

async function cli(argv: string[], redisUrl: string | undefined): Promise<Result> {
  const err: string[] = [];
  const started = Date.now();
  const code = await run(argv, { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) } }, { env: redisUrl === undefined ? {} : { REDIS_URL: redisUrl }, cwd: os.tmpdir() });
  return { code, stderr: err.join(""), ms: Date.now() - started };
}

const badFile = path.join(tempDir("aviary-cli-args-"), "def.json");
fs.writeFileSync(badFile, JSON.stringify({ key: "f1", type: "boolean" }));
const f1File = path.join(path.dirname(badFile), "f1.json");
fs.writeFileSync(f1File, JSON.stringify(booleanFlag("f1", "me")));

// Each command with one bad argument, and the words the error must contain to name it.
const CASES: [string, string[], string][] = [
  ["flags set: empty key", ["flags", "set", "", "on"], 'Invalid flag key ""'],
  ["flags get: bad key", ["flags", "get", "Bad Key"], 'Invalid flag key "Bad Key"'],
  ["flags kill: bad key", ["flags", "kill", "x y", "--reason", "r"], 'Invalid flag key "x y"'],
  ["flags unkill: bad key", ["flags", "unkill", "x y", "--reason", "r"], 'Invalid flag key "x y"'],
  ["flags rollout: bad key", ["flags", "rollout", "", "10"], 'Invalid flag key ""'],
  ["flags rollout: bad percent", ["flags", "rollout", "f1", "101"], 'invalid percent "101"'],
  ["flags history: bad key", ["flags", "history", "A"], 'Invalid flag key "A"'],
  ["flags history: bad count", ["flags", "history", "f1", "--count", "0"], 'invalid count "0"'],
  ["flags set: bad rule", ["flags", "set", "f1", "--rule", "nonsense"], 'invalid --rule "nonsense"'],
  ["flags set: invalid --file definition", ["flags", "set", "f1", "--file", badFile], 'Invalid flag "f1"'],
  ["flags set: --file for another key", ["flags", "set", "f2", "--file", f1File], 'defines flag "f1", not "f2"'],
  ["flags rule add: syntax error", ["flags", "rule", "add", "f1", "plan in", "--variant", "on"], 'at column 8: expected "[" after "in"'],
  ["flags rule add: invalid condition", ["flags", "rule", "add", "f1", "in segment Beta", "--variant", "on"], "condition 1 (in segment Beta) segment"],
  ["flags rule add: bad percentage", ["flags", "rule", "add", "f1", "a = 1", "--variant", "on", "--percentage", "1.234"], 'invalid percent "1.234"'],
  ["flags rule add: bad position", ["flags", "rule", "add", "f1", "a = 1", "--variant", "on", "--position", "0"], 'invalid position "0"'],
  ["flags rule remove: bad number", ["flags", "rule", "remove", "f1", "0"], 'invalid rule number "0"'],
  ["flags rule list: bad key", ["flags", "rule", "list", "A"], 'Invalid flag key "A"'],
  ["flags segment set: bad name", ["flags", "segment", "set", "B", "a = 1"], 'Invalid segment name "B"'],
  ["flags segment set: a segment in a segment", ["flags", "segment", "set", "s1", "in segment s2"], 'a segment cannot use "in segment"'],
  ["flags segment get: bad name", ["flags", "segment", "get", "x y"], 'Invalid segment name "x y"'],
  ["flags segment delete: empty reason", ["flags", "segment", "delete", "s1", "--reason", " "], "--reason must not be empty"],
  ["canary weight", ["canary", "weight", "101"], 'invalid weight "101"'],
  ["canary off: empty reason", ["canary", "off", "--reason", " "], "--reason must not be empty"],
  ["events: bad count", ["events", "--count", "x"], 'invalid count "x"'],
  ["status --watch: bad interval", ["status", "--watch", "--interval", "0"], 'invalid interval "0"'],
  ["status: --interval without --watch", ["status", "--interval", "5"], "--interval needs --watch"],
];

describe("bad arguments are refused before any connection to Redis", () => {
  test.each(CASES)("%s: exit 2 at once against a closed port, naming the argument", async (_label, argv, words) => {
    const port = await freePort(); // nothing listens there: a connection attempt would retry for seconds
    const res = await cli(argv, `redis://127.0.0.1:${port}`);
    expect(res.stderr).toContain(words);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.code).toBe(2);
    expect(res.ms).toBeLessThan(1000);
  });

  test.each(CASES)("%s: no connection is opened", async (_label, argv) => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      expect((await cli(argv, `redis://127.0.0.1:${port}`)).code).toBe(2);
      // Give a connection the client might have started time to arrive.
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test.each(CASES)("%s: reported even when REDIS_URL is unset (checked before connecting)", async (_label, argv, words) => {
    const res = await cli(argv, undefined);
    expect(res.stderr).toContain(words);
    expect(res.stderr).not.toContain("REDIS_URL");
    expect(res.code).toBe(2);
  });
});
