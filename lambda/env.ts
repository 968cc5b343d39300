// The controller's tunables from the function's environment (components/controller.ts sets the
// scaling policy from aviary:scaling; DRAIN_WAIT_MS is optional).
import { DEFAULT_SCALING } from "../core/config/defaults";
import type { ScalingPolicy } from "../core/controller/decide";
import { intFromEnv, type Env } from "../core/env";

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => intFromEnv(env, name, fallback, min, max, "controller");

/** The longest pause DRAIN_WAIT_MS may ask for (lambda/timing.ts counts it in the time budget). */
export const MAX_DRAIN_WAIT_MS = 15_000;

/** Pause between draining a backend and terminating it. */
export function drainWaitMsFromEnv(env: Record<string, string | undefined>): number {
  return integer(env, "DRAIN_WAIT_MS", 5000, 0, MAX_DRAIN_WAIT_MS);
}

export function scalingFromEnv(env: Record<string, string | undefined>): ScalingPolicy {
  return {
    step: integer(env, "SCALING_STEP", DEFAULT_SCALING.step, 1, 10),
    scaleOutCooldownSeconds: integer(env, "SCALE_OUT_COOLDOWN_SECONDS", DEFAULT_SCALING.scaleOutCooldownSeconds, 0, 3600),
    scaleInCooldownSeconds: integer(env, "SCALE_IN_COOLDOWN_SECONDS", DEFAULT_SCALING.scaleInCooldownSeconds, 0, 3600),
  };
}
