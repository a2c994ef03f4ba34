// A new API token for a user; the secret is returned here and never again.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { generateToken, hashToken, tokenDisplayPrefix } from "../../tokens";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
import { apiTokenViewSelect, type TApiTokenView, toApiTokenView } from "./api-token-view";

export async function createApiToken(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  now: Date;
  userId: string;
  name: string;
  expiresAt?: Date | null;
}): Promise<{ token: string; apiToken: TApiTokenView }> {
  const { db, bus, caller, now, userId } = options;
  if (options.expiresAt && options.expiresAt.getTime() <= now.getTime()) {
    throw new AppError("BAD_REQUEST", "expiresIn: the token would expire immediately");
  }
  const user = await db.user.findUnique({ where: { id: userId }, select: { disabledAt: true } });
  if (!user) throw new AppError("NOT_FOUND", `no user with id ${userId}`);
  if (user.disabledAt)
    throw new AppError("PRECONDITION_FAILED", "cannot create a token for a disabled account");
  const token = generateToken("api");
  const { apiToken, event } = await db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: {
        userId,
        name: options.name.trim(),
        tokenHash: hashToken(token),
        prefix: tokenDisplayPrefix(token),
        createdAt: now,
        expiresAt: options.expiresAt ?? null,
      },
      select: apiTokenViewSelect,
    });
    const apiToken = toApiTokenView(row);
    const event = await recordAuditEvent({
      db: tx,
      kind: "audit.api-token.created",
      ...caller,
      target: {
        userId,
        email: apiToken.userEmail,
        apiTokenId: apiToken.id,
        apiTokenName: apiToken.name,
        apiTokenPrefix: apiToken.prefix,
        expiresAt: apiToken.expiresAt?.toISOString() ?? null,
      },
      ts: now,
    });
    return { apiToken, event };
  });
  bus.publish("event", event);
  return { token, apiToken };
}
