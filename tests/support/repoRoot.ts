// The repository's root, for tests that read its files (stack config, docs, scripts) or run its tools.
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../..");
