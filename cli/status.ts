// `aviary status`: one read of the routing state and the live backends, as text or JSON; the
// same report once or, with --watch, on every refresh.
import type Redis from "ioredis";
import { ROLES } from "../core/routing/role";
import type { Backend } from "../state/registry";
import type { RoutingState } from "../state/routing";
import type { SectionHealth } from "../state/section";
import { backendsSection, rolloutSection, routingSection } from "../state/statusSections";
import type { RolloutState } from "../core/rollout/model";

export interface StatusReport {
  sections: { routing: SectionHealth; rollout: SectionHealth; backends: SectionHealth };
  routing: RoutingState | null;
  rollout: RolloutState | null;
  backends: { prod: Backend[]; canary: Backend[] };
}

/** Each section read on its own: a bad key breaks only its line; only an unreachable Redis throws. */
export async function readStatus(redis: Redis): Promise<StatusReport> {
  const [routing, rollout, reg] = await Promise.all([routingSection(redis), rolloutSection(redis), backendsSection(redis)]);
  return {
    sections: { routing: routing.health, rollout: rollout.health, backends: reg.health },
    routing: routing.value,
    rollout: rollout.value,
    backends: {
      prod: reg.value.filter((b) => b.role === "prod"),
      canary: reg.value.filter((b) => b.role === "canary"),
    },
  };
}

/** Problems of every section, for stderr. */
export function statusProblems(r: StatusReport): string[] {
  return [...r.sections.routing.problems, ...r.sections.rollout.problems, ...r.sections.backends.problems];
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
  const ro = r.rollout;
  if (ro) lines.push(`rollout: ${ro.appVersion} ${ro.status}, step ${ro.step + 1}/${ro.plan.steps.length} at weight ${ro.plan.steps[ro.step].weight}% (${ro.reason})`);
  else if (!r.sections.rollout.ok) lines.push(`rollout: unknown (rollout state unreadable: ${r.sections.rollout.problems.join("; ")})`);
  if (!r.sections.backends.ok) lines.push(`backends: broken (${r.sections.backends.problems.join("; ")})`);
  for (const role of ROLES) {
    const list = r.backends[role];
    lines.push(`${role} backends (${list.length}):${list.length === 0 ? " none" : ""}`);
    for (const b of list) lines.push(`  ${b.id}  ${b.address}  ${b.version}`);
  }
  return lines.join("\n") + "\n";
}
