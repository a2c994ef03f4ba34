// An API token as lists show it: the display prefix, never the secret or its hash.
import type { Prisma } from "../../db/client";

export const apiTokenViewSelect = {
  id: true,
  name: true,
  prefix: true,
  userId: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
  user: { select: { email: true } },
} satisfies Prisma.ApiTokenSelect;

export interface TApiTokenView {
  id: string;
  name: string;
  prefix: string;
  userId: string;
  userEmail: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export function toApiTokenView(
  row: Prisma.ApiTokenGetPayload<{ select: typeof apiTokenViewSelect }>,
): TApiTokenView {
  const { user, ...rest } = row;
  return { ...rest, userEmail: user.email };
}
