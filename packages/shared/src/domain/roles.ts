// Who may do what: three roles, each including the ones below it. Shared so the
// server enforces and the dashboard hides by the same ranking. Browser-safe.
import { z } from "zod";

export const ZUserRole = z.enum(["admin", "operator", "viewer"]);
export type TUserRole = z.infer<typeof ZUserRole>;

const RANK: Record<TUserRole, number> = { viewer: 0, operator: 1, admin: 2 };

/** Whether `role` is `minimum` or above it. */
export function roleAtLeast(role: TUserRole, minimum: TUserRole): boolean {
  return RANK[role] >= RANK[minimum];
}
