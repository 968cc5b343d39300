// The post-deploy smoke check that `pulumi up` runs where it runs (a @pulumi/command local.Command):
// a 200 through the proxy that an Aviary app answered, within a bounded time.
import type { AppRelease } from "./appRelease";
import type * as pulumi from "@pulumi/pulumi";

/** Long enough for a new proxy and fleet instance to boot, install and register (dnf, S3, agent). */
export const SMOKE_CHECK_TIMEOUT_SECONDS = 600;
export const SMOKE_CHECK_INTERVAL_SECONDS = 10;

/**
 * POSIX sh (local.Command runs `/bin/sh -c`). Passes only on a 200 that carries x-aviary-version,
 * the header the app sets on every answer (app/main.ts) and HAProxy's own 503 lacks, so a proxy with
 * no backend in its slots fails it. PROXY_URL comes from the command's environment;
 * AVIARY_SMOKE_TIMEOUT_SECONDS and AVIARY_SMOKE_INTERVAL_SECONDS override the bounds (tests).
 */
export const PROXY_SMOKE_CHECK_SCRIPT = `timeout=\${AVIARY_SMOKE_TIMEOUT_SECONDS:-${SMOKE_CHECK_TIMEOUT_SECONDS}}
interval=\${AVIARY_SMOKE_INTERVAL_SECONDS:-${SMOKE_CHECK_INTERVAL_SECONDS}}
deadline=$(( $(date +%s) + timeout ))
last="no answer"
while :; do
  headers=$(curl -sS -o /dev/null -D - -m 5 "$PROXY_URL/" 2>/dev/null | tr -d '\\r')
  code=$(printf '%s\\n' "$headers" | awk 'NR == 1 { print $2 }')
  version=$(printf '%s\\n' "$headers" | awk -F': *' 'tolower($1) == "x-aviary-version" { print $2; exit }')
  if [ "$code" = 200 ] && [ -n "$version" ]; then
    echo "proxy at $PROXY_URL answered 200 from app version $version"
    exit 0
  fi
  last="status \${code:-none}, x-aviary-version \${version:-absent}"
  [ "$(date +%s)" -ge "$deadline" ] && break
  sleep "$interval"
done
echo "proxy at $PROXY_URL gave no 200 from an Aviary backend within $timeout s (last: $last)" >&2
exit 1
`;

/**
 * What re-runs the check (triggers replace the command, and a replaced command runs create again):
 * the proxy (or its load balancer), the app release and the proxy agent. Release keys change with
 * every new bundle, so a release that breaks routing fails the `pulumi up` that shipped it.
 */
export function smokeCheckTriggers(proxy: pulumi.Input<string>, release: Pick<AppRelease, "objectKey" | "agentKey">): pulumi.Input<string>[] {
  return [proxy, release.objectKey, release.agentKey];
}
