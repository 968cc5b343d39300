// The HAProxy configs the proxy benchmarks run: the proxy instance's own config (as
// components/proxy.ts renders it), moved to loopback, and its static variant with slots written in.
import { CANARY_SLOTS, PROD_SLOTS, PROXY_HAPROXY_OPTIONS } from "../components/proxy";
import type { AccessLog } from "../core/config/accessLog";
import { renderHaproxyConfig, type HaproxyConfigOptions } from "../haproxy/config";

export { CANARY_SLOTS, PROD_SLOTS };
const HOST = "127.0.0.1";

/**
 * The proxy instance's config (its slot counts, user, latency histogram, access log as
 * aviary:proxy.accessLog says), moved to loopback ports and a temporary socket. maxconn is left to
 * HAProxy: its 20000 needs ~40k FDs, more than an unprivileged or containerised run may raise, and
 * a connection cap does not change the per-request work measured here.
 */
export function proxyConfig(port: number, statsPort: number, socketPath: string, accessLog: AccessLog): string {
  return renderHaproxyConfig({ ...PROXY_HAPROXY_OPTIONS, maxconn: undefined, bind: `${HOST}:${port}`, statsBind: `${HOST}:${statsPort}`, socketPath, accessLog } satisfies HaproxyConfigOptions);
}

/**
 * The same config with the given slots written in (weight 1 each, as the agent computes for 75/25
 * over 3 prod + 1 canary) and enabled; the other slots stay disabled, as under the agent.
 */
export function withStaticSlots(config: string, slotPorts: Readonly<Record<string, number>>): string {
  const out = config.replace(/server (\w+) 127\.0\.0\.1:1 check disabled weight 0/g, (line, slot: string) =>
    slotPorts[slot] === undefined ? line : `server ${slot} ${HOST}:${slotPorts[slot]} check weight 1`);
  for (const slot of Object.keys(slotPorts)) if (!out.includes(`server ${slot} ${HOST}:${slotPorts[slot]} `)) throw new Error(`withStaticSlots: no slot ${slot} in the config`);
  return out;
}
