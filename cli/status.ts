// `aviary status`: one read of the routing state and the live backends, as text or JSON; the
// same report once or, with --watch, on every refresh.
import type Redis from "ioredis";
import { ROLES } from "../core/routing/role";
import type { Backend } from "../state/registry";
import type { RoutingState } from "../state/routing";
import type { SectionHealth } from "../state/section";
import { backendsSection, routingSection } from "../state/statusSections";

export interface StatusReport {
  sections: { routing: SectionHealth; backends: SectionHealth };
  routing: RoutingState | null;
  backends: { prod: Backend[]; canary: Backend[] };
}

/** Each section read on its own: a bad key breaks only its line; only an unreachable Redis throws. */
export async function readStatus(redis: Redis): Promise<StatusReport> {
  const [routing, reg] = await Promise.all([routingSection(redis), backendsSection(redis)]);
  return {
    sections: { routing: routing.health, backends: reg.health },
    routing: routing.value,
    backends: {
      prod: reg.value.filter((b) => b.role === "prod"),
      canary: reg.value.filter((b) => b.role === "canary"),
    },
  };
}

/** Problems of every section, for stderr. */
export function statusProblems(r: StatusReport): string[] {
  return [...r.sections.routing.problems, ...r.sections.backends.problems];
}

export function statusText(r: StatusReport): string {
  const lines: string[] = [];
  const s = r.routing;
  if (s) {
    lines.push(`canary: ${s.canaryEnabled ? "enabled" : "disabled"}, weight ${s.canaryWeight}%`);
    if (s.reason !== undefined) lines.push(`reason: ${s.reason}`);
    lines.push(`changed: ${s.changedAt} by ${s.changedBy}`);
  } else {
    lines.push(`canary: unknown (routing state unreadable: ${r.sections.routing.problems.join("; ")})`);
  }
  if (!r.sections.backends.ok) lines.push(`backends: broken (${r.sections.backends.problems.join("; ")})`);
  for (const role of ROLES) {
    const list = r.backends[role];
    lines.push(`${role} backends (${list.length}):${list.length === 0 ? " none" : ""}`);
    for (const b of list) lines.push(`  ${b.id}  ${b.address}  ${b.version}`);
  }
  return lines.join("\n") + "\n";
}
