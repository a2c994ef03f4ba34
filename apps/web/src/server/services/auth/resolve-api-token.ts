/**
 * `Authorization: Bearer <token>` for programs. Tokens are looked up by their
 * sha256; `lastUsedAt` is written at most once a minute per token.
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import { hashToken } from "../../tokens";
import { authUserSelect, type TAuthUser, toAuthUser } from "./auth-user";

export const API_TOKEN_LAST_USED_RESOLUTION_MS = 60_000;

export type TApiTokenLookup =
  | { ok: true; user: TAuthUser; apiTokenId: string; expiresAt: Date | null }
  | { ok: false; problem: string };

export async function resolveApiToken(options: {
  db: PrismaClient;
  clock: Clock;
  token: string;
}): Promise<TApiTokenLookup> {
  const { db, clock, token } = options;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: {
      id: true,
      revokedAt: true,
      expiresAt: true,
      lastUsedAt: true,
      user: { select: authUserSelect },
    },
  });
  const now = clock.now();
  if (!row) return { ok: false, problem: "unknown API token" };
  if (row.revokedAt) return { ok: false, problem: "this API token has been revoked" };
  if (row.expiresAt && row.expiresAt.getTime() <= now)
    return { ok: false, problem: "this API token has expired" };
  if (row.user.disabledAt) return { ok: false, problem: "the account of this API token is disabled" };
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= API_TOKEN_LAST_USED_RESOLUTION_MS) {
    // Conditional, so concurrent requests with one token write once.
    await db.apiToken.updateMany({
      where: {
        id: row.id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - API_TOKEN_LAST_USED_RESOLUTION_MS) } }],
      },
      data: { lastUsedAt: new Date(now) },
    });
  }
  return { ok: true, user: toAuthUser(row.user), apiTokenId: row.id, expiresAt: row.expiresAt };
}
