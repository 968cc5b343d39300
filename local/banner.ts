// What `npm start` prints once the stack is up. Pure, so the transcript in docs/local-mode.md can
// be checked against it. It never contains the Redis password: the CLI finds the stack by itself.
import { LOCAL_STATE_FILE } from "../discovery/localStateFile";

export interface BannerInput {
  proxyUrl: string;
  adminUrl: string;
  /** The runner's log directory, relative to the checkout. */
  logDir: string;
}

/** The shell line that exports this stack's REDIS_URL without printing it. */
export const REDIS_URL_EXPORT = `export REDIS_URL="$(node -p 'require("./${LOCAL_STATE_FILE}").redisUrl')"`;

export function stackUpBanner(b: BannerInput): string {
  return [
    "",
    "Aviary local stack is up.",
    `  proxy      ${b.proxyUrl}`,
    `  dashboard  ${b.adminUrl}`,
    `  CLI        bin/aviary status   (finds this stack by itself from anywhere in this checkout)`,
    `  REDIS_URL  for other tools: ${REDIS_URL_EXPORT}`,
    `  logs       ${b.logDir}/ (runner.log is the runner's own, JSON)`,
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

/** What a second `npm start` in the same checkout prints instead of starting. */
export function alreadyRunningMessage(h: { pid: number; proxyUrl: string; adminUrl: string } | undefined, lockFile: string): string {
  const who = h === undefined ? "a local stack that is still starting" : `the local stack of pid ${h.pid} (proxy ${h.proxyUrl}, dashboard ${h.adminUrl})`;
  const stop = h === undefined ? "" : ` Stop it with Ctrl-C in its terminal or \`kill ${h.pid}\`, then start again.`;
  return `aviary: this checkout already runs ${who}; nothing was started or changed (lock: ${lockFile}).${stop}\n`;
}
