/**
 * API tokens accepted in the last few seconds, so that a program polling the
 * API (or the dashboard at fleet scale, one call every few hundred
 * milliseconds) does not cost a database query per call.
 *
 * What keeps it safe: any `access.changed` on the bus (a token revoked, a
 * user disabled, removed or given another role, a sign-out) empties it at
 * once, and the bus carries that topic to every replica; a lookup that was
 * already under way when that happened is not kept; a token's expiry is
 * checked on every hit; nothing is kept longer than the TTL, which bounds what
 * a change made without the bus (in SQL) takes to apply. Refusals are never
 * kept: a token created a moment ago must work at once.
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import { hashToken } from "../../tokens";
import { resolveApiToken, type TApiTokenLookup } from "./resolve-api-token";

export const API_TOKEN_CACHE_TTL_MS = 5000;
/** Bounds memory; a valid token costs a lookup only, so dropping everything beyond it is cheap. */
const MAX_ENTRIES = 1000;

type TAccepted = Extract<TApiTokenLookup, { ok: true }>;

export interface ApiTokenCache {
  resolve(options: { db: PrismaClient; clock: Clock; token: string }): Promise<TApiTokenLookup>;
}

export function createApiTokenCache(options: {
  bus: Pick<EventBus, "subscribe">;
  ttlMs?: number;
}): ApiTokenCache {
  const ttlMs = options.ttlMs ?? API_TOKEN_CACHE_TTL_MS;
  // Keyed by the token's hash: the secrets themselves are not kept.
  const entries = new Map<string, { accepted: TAccepted; keptAt: number }>();
  // Raised by every access change: a lookup that began under an older one may have read what it changed.
  let generation = 0;
  options.bus.subscribe("access.changed", () => {
    generation++;
    entries.clear();
  });

  return {
    async resolve({ db, clock, token }) {
      const key = hashToken(token);
      const now = clock.now();
      const entry = entries.get(key);
      if (entry && now - entry.keptAt < ttlMs) {
        const expiresAt = entry.accepted.expiresAt;
        if (!expiresAt || expiresAt.getTime() > now) return entry.accepted;
      }
      if (entry) entries.delete(key);
      const startedUnder = generation;
      const found = await resolveApiToken({ db, clock, token });
      if (found.ok && generation === startedUnder) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(key, { accepted: found, keptAt: now });
      }
      return found;
    },
  };
}
