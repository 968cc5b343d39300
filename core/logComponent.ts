// Every process names itself in its log records the same way, under `component`, so one query
// (or one jq filter) selects a component's records whichever process wrote them.

export const LOG_COMPONENTS = ["aviary", "aviary-agent", "aviary-controller", "aviary-local"] as const;
export type LogComponent = (typeof LOG_COMPONENTS)[number];

/** The binding to give a process's root logger (pino `base` or `child`). */
export function logComponent(component: LogComponent): { component: LogComponent } {
  return { component };
}
