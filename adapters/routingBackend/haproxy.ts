// The agent's routing backend: HAProxy's server slots, set through its Runtime API (unix socket).
// The same on AWS and in local mode; another proxy would be another file beside this one.
import { runtimeBatch } from "../../agent/runtimeApi";
import type { RoutingBackend } from "../../agent/ports";
import type { SlotAssignment } from "../../core/routing/weights";
import { BACKEND } from "../../haproxy/config";

/** Commands for one slot; maint goes first when draining so no request hits a half-updated server. */
export function slotCommands(s: SlotAssignment): string[] {
  const name = `${BACKEND}/${s.slot}`;
  const addr = `set server ${name} addr ${s.address} port ${s.port}`;
  const weight = `set server ${name} weight ${s.weight}`;
  return s.state === "maint"
    ? [`set server ${name} state maint`, addr, weight]
    : [addr, weight, `set server ${name} state ready`];
}

/** All changed slots in one Runtime API batch: HAProxy applies them in order on one connection. */
export function haproxyRoutingBackend(socketPath: string): RoutingBackend {
  return { apply: async (changed) => void (await runtimeBatch(socketPath, changed.flatMap(slotCommands))) };
}
