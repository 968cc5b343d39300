// The instances' private network: one Linux bridge on this machine holding the /24's first address
// and the instance metadata address, with no route or forwarding out (ip_forward stays as it is,
// and the containers get no default route), so nothing but this /24 and 169.254.169.254 is reachable.
import { execFileSync } from "node:child_process";

export const IMDS_ADDRESS = "169.254.169.254";
/** Every link the harness makes starts with this; a sweep removes the ones of dead runs. */
export const LINK_PREFIX = "avb";

export interface BootNetwork {
  bridge: string;
  /** The /24's first three octets, e.g. "10.213.7". */
  prefix: string;
  hostAddress: string;
}

function ip(args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The bridge for run `runId` (at most 12 characters: a link name is at most 15). */
export function createNetwork(runId: string, thirdOctet: number): BootNetwork {
  const bridge = `${LINK_PREFIX}${runId}`.slice(0, 15);
  const prefix = `10.213.${thirdOctet}`;
  if (ip(["-4", "route", "show", `${prefix}.0/24`]).trim() !== "") throw new Error(`boot network: ${prefix}.0/24 is already routed on this machine`);
  ip(["link", "add", bridge, "type", "bridge"]);
  ip(["addr", "add", `${prefix}.1/24`, "dev", bridge]);
  ip(["addr", "add", `${IMDS_ADDRESS}/32`, "dev", bridge]);
  ip(["link", "set", bridge, "up"]);
  return { bridge, prefix, hostAddress: `${prefix}.1` };
}

export function removeLink(name: string): void {
  try {
    ip(["link", "del", name]);
  } catch {
    // Already gone (a veth goes with its container).
  }
}

/** Links of the harness's naming whose run is not in `liveRunIds`. */
export function staleLinks(liveRunIds: readonly string[]): string[] {
  const names = ip(["-o", "link", "show"]).split("\n").map((l) => l.split(": ")[1]?.split("@")[0] ?? "").filter((n) => n.startsWith(LINK_PREFIX));
  return names.filter((n) => !liveRunIds.some((id) => n === `${LINK_PREFIX}${id}`.slice(0, 15)));
}
