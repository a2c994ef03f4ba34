/**
 * Browser sessions. The cookie carries a random token; the database keeps only
 * its sha256 as the session id, so a leaked table yields no usable cookie.
 * Sessions slide: use within the TTL extends them, at most once per touch
 * interval so a busy dashboard does not write on every request.
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import { generateToken, hashToken } from "../../tokens";
import { authUserSelect, type TAuthUser, toAuthUser } from "./auth-user";

export const SESSION_COOKIE_NAME = "fleet_session";
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const SESSION_TOUCH_INTERVAL_MS = 60 * 60 * 1000;

export interface TNewSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export async function createSession(options: {
  db: PrismaClient;
  clock: Clock;
  userId: string;
}): Promise<TNewSession> {
  const { db, clock, userId } = options;
  const token = generateToken("session");
  const now = new Date(clock.now());
  const expiresAt = new Date(clock.now() + SESSION_TTL_MS);
  const sessionId = hashToken(token);
  await db.session.create({ data: { id: sessionId, userId, expiresAt, createdAt: now, lastSeenAt: now } });
  return { token, sessionId, expiresAt };
}

export type TSessionLookup =
  | { ok: true; user: TAuthUser; sessionId: string; expiresAt: Date; renewed: boolean }
  | { ok: false; problem: string };

/** The session a cookie token names, extending it when due. */
export async function resolveSession(options: {
  db: PrismaClient;
  clock: Clock;
  token: string;
}): Promise<TSessionLookup> {
  const { db, clock, token } = options;
  const sessionId = hashToken(token);
  const session = await db.session.findUnique({
    where: { id: sessionId },
    select: { id: true, expiresAt: true, lastSeenAt: true, user: { select: authUserSelect } },
  });
  const now = clock.now();
  if (!session) return { ok: false, problem: "your session has ended: sign in again" };
  if (session.expiresAt.getTime() <= now) {
    await db.session.deleteMany({ where: { id: sessionId } });
    return { ok: false, problem: "your session has expired: sign in again" };
  }
  if (session.user.disabledAt) return { ok: false, problem: "this account is disabled" };
  let expiresAt = session.expiresAt;
  let renewed = false;
  if (now - session.lastSeenAt.getTime() >= SESSION_TOUCH_INTERVAL_MS) {
    expiresAt = new Date(now + SESSION_TTL_MS);
    renewed = true;
    await db.session.updateMany({ where: { id: sessionId }, data: { lastSeenAt: new Date(now), expiresAt } });
  }
  return { ok: true, user: toAuthUser(session.user), sessionId, expiresAt, renewed };
}

export async function deleteSession(options: { db: PrismaClient; sessionId: string }): Promise<void> {
  await options.db.session.deleteMany({ where: { id: options.sessionId } });
}

/** Ends every session of a user (password changed, account disabled), except `keepSessionId`. */
export async function deleteUserSessions(options: {
  db: Pick<PrismaClient, "session">;
  userId: string;
  keepSessionId?: string | null;
}): Promise<number> {
  const { db, userId, keepSessionId } = options;
  const result = await db.session.deleteMany({
    where: { userId, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) },
  });
  return result.count;
}

/** Deletes sessions past their expiry; run now and then by the central. */
export async function pruneExpiredSessions(options: { db: PrismaClient; clock: Clock }): Promise<number> {
  const result = await options.db.session.deleteMany({
    where: { expiresAt: { lte: new Date(options.clock.now()) } },
  });
  return result.count;
}
