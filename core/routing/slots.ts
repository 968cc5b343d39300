// HAProxy's server slots are named by role and a 1-based index (prod1, canary2, ...): the agent fills
// them, the metrics read them back by name.
import { InvalidInputError } from "../errors";
import type { Role } from "./role";

/** Server slot name, 1-based: slotName("prod", 1) === "prod1". */
export function slotName(role: Role, i: number): string {
  if (!Number.isInteger(i) || i < 1) throw new InvalidInputError(`slotName: bad slot index ${i}`);
  return `${role}${i}`;
}

const SLOT = /^(prod|canary)\d+$/;

/** The role of a slot name (inverse of slotName); undefined for anything else (<NOSRV>, BACKEND, ...). */
export function slotRole(server: string): Role | undefined {
  const m = SLOT.exec(server);
  return m === null ? undefined : (m[1] as Role);
}
