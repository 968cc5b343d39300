// Config defaults, apart from the zod schema so small bundles (the controller Lambda) can use them.
export const DEFAULT_THRESHOLDS = {
  scaleOutCpu: 70,
  scaleInCpu: 25,
  memory: 85,
  canaryErrorRate: 5,
  canaryP99Ms: 1500,
} as const;

export const DEFAULT_SCALING = { step: 1, scaleOutCooldownSeconds: 120, scaleInCooldownSeconds: 300 } as const;
