// What runs on the instances, bundled: the sample app and the proxy agent, each one CommonJS file
// for Node 24 (no node_modules on an instance). AppRelease uploads them; the local runner runs them.
import { buildSync } from "esbuild";
import * as path from "node:path";

export const APP_ENTRY = path.join(__dirname, "..", "app", "main.ts");
export const AGENT_ENTRY = path.join(__dirname, "..", "agent", "main.ts");

/** Bundles an entry (default app/main.ts) into one CommonJS file's text. */
export function bundleApp(entry: string = APP_ENTRY): string {
  const result = buildSync({
    entryPoints: [entry],
    write: false,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}
