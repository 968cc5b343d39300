// Bundles the controller handler into one CommonJS file in memory (AWS SDK v3 ships with the runtime).
import { buildSync } from "esbuild";
import * as path from "path";
import { InvariantError } from "../core/errors";

export function buildControllerBundle(): { code: string; bytes: number } {
  const result = buildSync({
    // Via ".." so it also resolves from a bundle in dist/ (the bench), as release/bundles.ts does.
    entryPoints: [path.join(__dirname, "..", "lambda", "handler.ts")],
    write: false,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    minify: true,
    external: ["@aws-sdk/*"],
    logLevel: "silent",
  });
  const [file] = result.outputFiles;
  if (!file) throw new InvariantError("buildControllerBundle: esbuild produced no output");
  return { code: file.text, bytes: file.contents.byteLength };
}
