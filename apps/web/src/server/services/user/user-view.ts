// A user as the API shows it: never the password hash.

import type { TUserRole } from "@fleet/shared/domain/roles";
import type { Prisma } from "../../db/client";

export const userViewSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  createdAt: true,
  updatedAt: true,
  disabledAt: true,
} satisfies Prisma.UserSelect;

export interface TUserView {
  id: string;
  email: string;
  name: string;
  role: TUserRole;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
}

/** Emails compare without case or surrounding spaces. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
