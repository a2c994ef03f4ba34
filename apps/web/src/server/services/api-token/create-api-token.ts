// A new API token for a user; the secret is returned here and never again.
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import { generateToken, hashToken, tokenDisplayPrefix } from "../auth/tokens";
import { apiTokenViewSelect, type TApiTokenView, toApiTokenView } from "./api-token-view";

export async function createApiToken(options: {
  db: PrismaClient;
  now: Date;
  userId: string;
  name: string;
  expiresAt?: Date | null;
}): Promise<{ token: string; apiToken: TApiTokenView }> {
  const { db, now, userId } = options;
  if (options.expiresAt && options.expiresAt.getTime() <= now.getTime()) {
    throw new AppError("BAD_REQUEST", "expiresIn: the token would expire immediately");
  }
  const user = await db.user.findUnique({ where: { id: userId }, select: { disabledAt: true } });
  if (!user) throw new AppError("NOT_FOUND", `no user with id ${userId}`);
  if (user.disabledAt)
    throw new AppError("PRECONDITION_FAILED", "cannot create a token for a disabled account");
  const token = generateToken("api");
  const row = await db.apiToken.create({
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
  return { token, apiToken: toApiTokenView(row) };
}
