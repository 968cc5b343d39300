// The proxy script as it was before /run/haproxy came from tmpfiles.d (commit 5a8f99d^,
// components/proxy.ts): a drop-in giving haproxy.service RuntimeDirectory=haproxy, mode 0750. HAProxy's
// unit has no User=, so systemd makes the directory root's at every start and the agent (user
// haproxy) cannot reach the admin socket in it. Kept to show the boot tests catch that fault.
import { PROXY_SOCKET_TMPFILES } from "../../components/proxy";

export const OLD_RUNTIME_DIRECTORY_DROP_IN = `mkdir -p /etc/systemd/system/haproxy.service.d
cat > /etc/systemd/system/haproxy.service.d/aviary.conf <<'DROPIN'
[Service]
RuntimeDirectory=haproxy
RuntimeDirectoryMode=0750
DROPIN
systemctl daemon-reload
`;

/** The current proxy script with its tmpfiles.d rule swapped for the old drop-in. */
export function withOldRuntimeDirectoryDropIn(script: string): string {
  const block = `cat > /etc/tmpfiles.d/aviary-haproxy.conf <<'TMPFILES'\n${PROXY_SOCKET_TMPFILES}\nTMPFILES\nsystemd-tmpfiles --create /etc/tmpfiles.d/aviary-haproxy.conf\n`;
  if (!script.includes(block)) throw new Error("proxy user data: the tmpfiles.d block is not there to swap");
  return script.replace(block, OLD_RUNTIME_DIRECTORY_DROP_IN);
}
