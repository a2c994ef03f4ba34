/**
 * Who is calling, from a request's headers: a bearer API token wins over the
 * session cookie. Credentials that are present but not valid are reported as a
 * `problem` rather than thrown, so public procedures still answer and the
 * guarded ones can say why they refuse.
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { ApiTokenCache } from "./api-token-cache";
import type { TAuth } from "./auth-user";
import { parseCookieHeader } from "./cookies";
import { resolveApiToken } from "./resolve-api-token";
import { resolveSession, SESSION_COOKIE_NAME } from "./sessions";

export interface TRequestCredentials {
  authorization?: string | undefined;
  cookie?: string | readonly string[] | undefined;
}

export interface TAuthentication {
  auth: TAuth | null;
  /** Why presented credentials were not accepted (null when none were presented or they were fine). */
  problem: string | null;
  /** Set when the session slid forward: the cookie should be sent again with the new expiry. */
  renewedSession: { token: string; expiresAt: Date } | null;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export async function authenticateRequest(options: {
  db: PrismaClient;
  clock: Clock;
  credentials: TRequestCredentials;
  /** Where tokens accepted a moment ago are kept (the API's calls); without it, every call asks the database. */
  apiTokens?: ApiTokenCache;
}): Promise<TAuthentication> {
  const { db, clock, credentials, apiTokens } = options;
  const none: TAuthentication = { auth: null, problem: null, renewedSession: null };
  if (credentials.authorization !== undefined && credentials.authorization.trim() !== "") {
    const match = BEARER.exec(credentials.authorization);
    if (!match?.[1]) {
      return { ...none, problem: "the Authorization header must be `Bearer <API token>`" };
    }
    const lookup = { db, clock, token: match[1] };
    const found = await (apiTokens ? apiTokens.resolve(lookup) : resolveApiToken(lookup));
    if (!found.ok) return { ...none, problem: found.problem };
    return {
      ...none,
      auth: {
        user: found.user,
        via: "apiToken",
        sessionId: null,
        apiTokenId: found.apiTokenId,
        apiTokenExpiresAt: found.expiresAt,
      },
    };
  }
  const token = parseCookieHeader(credentials.cookie).get(SESSION_COOKIE_NAME);
  if (!token) return none;
  const found = await resolveSession({ db, clock, token });
  if (!found.ok) return { ...none, problem: found.problem };
  return {
    auth: {
      user: found.user,
      via: "session",
      sessionId: found.sessionId,
      apiTokenId: null,
      apiTokenExpiresAt: null,
    },
    problem: null,
    renewedSession: found.renewed ? { token, expiresAt: found.expiresAt } : null,
  };
}
