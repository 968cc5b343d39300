// Temporary directories for tests: removed when the test file is done (tests/support/testEnvironment.js),
// so a run leaves nothing behind in /tmp.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

declare global {
  // Set by the test environment; absent outside jest.
  var __aviaryTempDirs: string[] | undefined;
}

/** A new empty directory under the OS temp dir, e.g. /tmp/aviary-local-Ab12Cd. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  globalThis.__aviaryTempDirs?.push(dir);
  return dir;
}
