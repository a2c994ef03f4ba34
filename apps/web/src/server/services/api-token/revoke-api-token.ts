// Revoking is final and idempotent: the row stays (lists show when it was
// revoked), the token stops working at once.
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import { apiTokenViewSelect, type TApiTokenView, toApiTokenView } from "./api-token-view";

export async function revokeApiToken(options: {
  db: PrismaClient;
  now: Date;
  id: string;
  /** Only tokens of this user may be revoked; null for an administrator (any token). */
  ownerId: string | null;
}): Promise<TApiTokenView> {
  const { db, now, id, ownerId } = options;
  const row = await db.apiToken.findUnique({ where: { id }, select: { userId: true, revokedAt: true } });
  // Someone else's token is "not found", so ids of others' tokens reveal nothing.
  if (!row || (ownerId !== null && row.userId !== ownerId)) {
    throw new AppError("NOT_FOUND", `no API token with id ${id}`);
  }
  if (!row.revokedAt)
    await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
  const updated = await db.apiToken.findUniqueOrThrow({ where: { id }, select: apiTokenViewSelect });
  return toApiTokenView(updated);
}
