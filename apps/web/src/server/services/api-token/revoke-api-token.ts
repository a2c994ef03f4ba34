// Revoking is final and idempotent: the row stays (lists show when it was
// revoked), the token stops working at once, and open streams it authorized
// are told to close (access.changed).
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
import { apiTokenViewSelect, type TApiTokenView, toApiTokenView } from "./api-token-view";

export async function revokeApiToken(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  now: Date;
  id: string;
  /** Only tokens of this user may be revoked; null for an administrator (any token). */
  ownerId: string | null;
}): Promise<TApiTokenView> {
  const { db, bus, caller, now, id, ownerId } = options;
  const row = await db.apiToken.findUnique({ where: { id }, select: { userId: true, revokedAt: true } });
  // Someone else's token is "not found", so ids of others' tokens reveal nothing.
  if (!row || (ownerId !== null && row.userId !== ownerId)) {
    throw new AppError("NOT_FOUND", `no API token with id ${id}`);
  }
  const { apiToken, event } = await db.$transaction(async (tx) => {
    // Only the call that revokes it records it: a repeated revoke changes nothing.
    const revoked = await tx.apiToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: now },
    });
    const apiToken = toApiTokenView(
      await tx.apiToken.findUniqueOrThrow({ where: { id }, select: apiTokenViewSelect }),
    );
    if (revoked.count === 0) return { apiToken, event: null };
    const event = await recordAuditEvent({
      db: tx,
      kind: "audit.api-token.revoked",
      ...caller,
      target: {
        userId: apiToken.userId,
        email: apiToken.userEmail,
        apiTokenId: apiToken.id,
        apiTokenName: apiToken.name,
        apiTokenPrefix: apiToken.prefix,
      },
      ts: now,
    });
    return { apiToken, event };
  });
  if (event) {
    bus.publish("event", event);
    bus.publish("access.changed", { userId: apiToken.userId, apiTokenId: apiToken.id });
  }
  return apiToken;
}
