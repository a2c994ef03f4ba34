/**
 * Closes live streams (SSE subscriptions) whose credentials stop being good.
 * A stream is authorized once, when it opens; without this a revoked token
 * or an ended session would go on receiving events for as long as the
 * connection lasts.
 *
 * Two paths: `access.changed` on the bus closes the affected streams at once
 * (a token revoked, a session ended, a user disabled, removed or given
 * another role in this process); and a periodic re-check of every open
 * stream's credential against the database catches what the bus did not
 * carry (another central, an expiry, a change made in SQL).
 */
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { TAuth } from "./auth-user";

export interface TGuardedStream {
  auth: TAuth;
  /** Ends the stream; the client reconnects and is then asked for credentials again. */
  close(): void;
}

export interface StreamGuard {
  /** Watches a stream until the returned function is called (when it ends on its own). */
  track(stream: TGuardedStream): () => void;
  /** Re-checks every open stream now (the periodic pass; tests call it directly). */
  recheck(): Promise<void>;
  start(): void;
  stop(): void;
  openStreams(): number;
}

export const STREAM_RECHECK_INTERVAL_MS = 30_000;

export function createStreamGuard(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "subscribe">;
  clock: Clock;
  log: Pick<Logger, "warn" | "debug">;
  recheckIntervalMs?: number;
}): StreamGuard {
  const { db, bus, clock, log } = options;
  const intervalMs = options.recheckIntervalMs ?? STREAM_RECHECK_INTERVAL_MS;
  const streams = new Set<TGuardedStream>();
  let unsubscribe: (() => void) | null = null;
  let timer: ReturnType<Clock["setTimeout"]> | null = null;

  const close = (stream: TGuardedStream, why: string) => {
    if (!streams.delete(stream)) return;
    log.debug({ userId: stream.auth.user.id, why }, "closing a live stream");
    stream.close();
  };

  async function recheck(): Promise<void> {
    if (streams.size === 0) return;
    const open = [...streams];
    const tokenIds = open.flatMap((s) => (s.auth.apiTokenId ? [s.auth.apiTokenId] : []));
    const sessionIds = open.flatMap((s) => (s.auth.sessionId ? [s.auth.sessionId] : []));
    const user = { select: { role: true, disabledAt: true } } as const;
    const [tokens, sessions] = await Promise.all([
      db.apiToken.findMany({
        where: { id: { in: tokenIds } },
        select: { id: true, revokedAt: true, expiresAt: true, user },
      }),
      db.session.findMany({ where: { id: { in: sessionIds } }, select: { id: true, expiresAt: true, user } }),
    ]);
    const now = clock.now();
    const good = new Map<string, { role: string }>();
    for (const token of tokens) {
      const expired = token.expiresAt !== null && token.expiresAt.getTime() <= now;
      if (!token.revokedAt && !expired && !token.user.disabledAt) good.set(token.id, token.user);
    }
    for (const session of sessions) {
      if (session.expiresAt.getTime() > now && !session.user.disabledAt) good.set(session.id, session.user);
    }
    for (const stream of open) {
      const credential = stream.auth.apiTokenId ?? stream.auth.sessionId;
      const holder = credential ? good.get(credential) : undefined;
      if (!holder) close(stream, "its credential is no longer valid");
      else if (holder.role !== stream.auth.user.role) close(stream, "its user's role changed");
    }
  }

  const schedule = () => {
    timer = clock.setTimeout(() => {
      recheck()
        .catch((error: unknown) => log.warn({ err: error }, "re-checking live streams failed"))
        .finally(() => {
          if (timer !== null) schedule();
        });
    }, intervalMs);
  };

  return {
    track(stream) {
      streams.add(stream);
      return () => {
        streams.delete(stream);
      };
    },
    recheck,
    start() {
      unsubscribe = bus.subscribe("access.changed", ({ userId, apiTokenId, sessionId }) => {
        for (const stream of [...streams]) {
          const { auth } = stream;
          if (auth.user.id !== userId) continue;
          if (apiTokenId !== undefined && auth.apiTokenId !== apiTokenId) continue;
          if (sessionId !== undefined && auth.sessionId !== sessionId) continue;
          close(stream, "its access changed");
        }
      });
      schedule();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = null;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
    openStreams: () => streams.size,
  };
}
