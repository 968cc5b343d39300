// What runs on the instances, bundled: the sample app and the proxy agent, each one CommonJS file
// for Node 24 (no node_modules on an instance). AppRelease uploads them; the local runner runs them.
import { buildSync } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
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

/** Hex digits of a bundle's SHA-256 in its release key: enough to tell any two builds apart. */
export const CONTENT_HASH_LENGTH = 16;

/** The content hash that names a bundle's release key (sha256 of its text, first 16 hex digits). */
export function contentHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, CONTENT_HASH_LENGTH);
}

/**
 * S3 key of a bundle: releases/<version>-<content hash>/<file>. A new build under the same version
 * gets a new key, so every instance that downloads it at boot (fleet, canary, proxy) is rolled.
 */
export function releaseKey(version: string, hash: string, file: "app.js" | "agent.js"): string {
  return `releases/${version}-${hash}/${file}`;
}

/** The git commit a deployment was built from: CI's GITHUB_SHA, else the work tree's HEAD, else "unknown". */
export function sourceCommit(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_SHA) return env.GITHUB_SHA;
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: path.join(__dirname, ".."), stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return "unknown";
  }
}
