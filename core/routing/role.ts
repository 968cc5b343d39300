// The two kinds of app instance the proxy splits traffic between.

export const ROLES = ["prod", "canary"] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}
