// The gateway among several central replicas on one database. Each host row
// names the replica holding its live connection (connected_replica) and a
// connection epoch that rises with every welcome, wherever it happens:
//
// - a welcome claims the host (host-auth.ts: the hello's own UPDATE raises the
//   epoch and names this replica), keeps the epoch on its session and NOTIFYs `fleet_host_connection`; a replica still
//   holding an older connection of that host closes it (4409 replaced). Writes
//   a connection makes for its host apply only while the row holds its epoch
//   (desired-state.ts, container-status.ts), so a stale one changes nothing
//   even before it is closed;
// - a desired set raised on a replica that does not hold the host NOTIFYs
//   `fleet_desired`; the holder sends the set at the generation it finds;
// - notifications only wake: what they say is checked against the host row
//   (anyone who can reach the database can NOTIFY), and a comparison of every
//   live session with its row, every `clusterCompareIntervalMs` and at once
//   after the listener reconnects, catches what a lost notification missed;
// - a closing connection clears connected_replica only if the epoch is still
//   its own.

import type { Logger } from "pino";
import { z } from "zod";
import type { PrismaClient } from "../db/client";
import type { AgentSession } from "./agent-session";
import type { BackgroundWork } from "./background-work";
import type { GatewayNotifier } from "./gateway-options";

export const HOST_CONNECTION_CHANNEL = "fleet_host_connection";
export const DESIRED_CHANNEL = "fleet_desired";
export const CLUSTER_COMPARE_INTERVAL_MS = 5000;

/** Notifications longer than this are not even parsed (Postgres caps payloads below 8000 bytes). */
const MAX_NOTICE_CHARS = 1000;

const ZHostId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const ZConnectionNotice = z.object({
  hostId: ZHostId,
  epoch: z.number().int().min(1).max(2_147_483_647),
  replica: z.string().max(200),
});
const ZDesiredNotice = z.object({ hostId: ZHostId });

/**
 * A connection closed: the host has no holder any more, unless a newer
 * connection took it. True when the epoch was still this connection's.
 */
export async function releaseConnection(options: {
  db: PrismaClient;
  hostId: string;
  replicaId: string;
  epoch: number;
}): Promise<boolean> {
  const { db, hostId, replicaId, epoch } = options;
  const released = await db.host.updateMany({
    where: { id: hostId, connectionEpoch: epoch, connectedReplica: replicaId },
    data: { connectedReplica: null },
  });
  return released.count === 1;
}

export interface ClusterSyncDeps {
  db: PrismaClient;
  log: Logger;
  replicaId: string;
  notifier: GatewayNotifier | undefined;
  intervalMs: number;
  /** The gateway's registry of live connections. */
  live: ReadonlyMap<string, AgentSession>;
  /** Sends the host's set at its current generation if it is newer than what the session has. */
  sendCurrentDesired(session: AgentSession): Promise<unknown>;
  /** Closes a session a newer connection of its host replaced. */
  supersede(session: AgentSession): void;
  background: BackgroundWork;
}

export interface ClusterSync {
  start(): void;
  stop(): void;
  /** After a welcome claimed `epoch`: replicas holding an older connection close it. */
  announceConnection(hostId: string, epoch: number): void;
  /** The host's generation rose here while another replica holds it. */
  desiredChanged(hostId: string): void;
  /** Compares the live sessions (or those of `hostIds`) with their rows now. */
  compare(hostIds?: readonly string[]): Promise<void>;
}

function parseNotice<T>(schema: z.ZodType<T>, payload: string): T | null {
  if (payload.length > MAX_NOTICE_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function createClusterSync(deps: ClusterSyncDeps): ClusterSync {
  const { db, log, replicaId, notifier, live, background } = deps;
  let timer: NodeJS.Timeout | null = null;
  let comparing: Promise<void> | null = null;
  let stopped = false;
  const unlisten: (() => void)[] = [];
  /** Hosts with a desired send in flight; `again` when another was asked for meanwhile. */
  const desiredRuns = new Map<string, { again: boolean }>();

  function liveSession(hostId: string): AgentSession | null {
    const session = live.get(hostId);
    return session && !session.closed && !session.replaced && session.epoch > 0 ? session : null;
  }

  function sendDesiredTo(hostId: string): void {
    if (!liveSession(hostId)) return;
    const running = desiredRuns.get(hostId);
    if (running) {
      running.again = true;
      return;
    }
    const run = { again: false };
    desiredRuns.set(hostId, run);
    const work = (async () => {
      try {
        do {
          run.again = false;
          const session = liveSession(hostId);
          if (!session) return;
          await deps.sendCurrentDesired(session);
        } while (run.again && !stopped);
      } finally {
        desiredRuns.delete(hostId);
      }
    })();
    background.track(work, "sending a desired set raised on another replica");
  }

  async function compareNow(hostIds: readonly string[] | undefined): Promise<void> {
    const sessions = (hostIds ?? [...live.keys()])
      .map((hostId) => liveSession(hostId))
      .filter((session): session is AgentSession => session !== null);
    if (sessions.length === 0) return;
    const rows = await db.host.findMany({
      where: { id: { in: sessions.map((session) => session.hostId) } },
      select: { id: true, connectionEpoch: true, desiredGeneration: true },
    });
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const session of sessions) {
      const row = byId.get(session.hostId);
      // A removed row: `host.removed` closes the session.
      if (!row || live.get(session.hostId) !== session || session.closed) continue;
      if (row.connectionEpoch > session.epoch) {
        session.log.info(
          { epoch: session.epoch, current: row.connectionEpoch },
          "a newer connection of this host was welcomed elsewhere; closing this one",
        );
        deps.supersede(session);
        continue;
      }
      if (row.connectionEpoch === session.epoch && row.desiredGeneration > session.lastSnapshotGeneration) {
        sendDesiredTo(session.hostId);
      }
    }
  }

  function compare(hostIds?: readonly string[]): Promise<void> {
    if (hostIds === undefined) {
      // One full comparison at a time; a timer tick during one waits for the next.
      comparing ??= compareNow(undefined).finally(() => {
        comparing = null;
      });
      return comparing;
    }
    return compareNow(hostIds);
  }

  function runCompare(hostIds: readonly string[] | undefined, what: string): void {
    if (stopped) return;
    background.track(compare(hostIds), what);
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      compare()
        .catch((error: unknown) => log.warn({ err: error }, "comparing sessions with their hosts failed"))
        .finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  }

  function notify(channel: string, payload: object): void {
    if (!notifier?.enabled || stopped) return;
    try {
      void notifier.notify(channel, JSON.stringify(payload));
    } catch (error) {
      log.error({ err: error, channel }, "a notification was not sent");
    }
  }

  if (notifier?.enabled) {
    unlisten.push(
      notifier.listen(HOST_CONNECTION_CHANNEL, (payload) => {
        const notice = parseNotice(ZConnectionNotice, payload);
        if (!notice) {
          log.warn(
            { channel: HOST_CONNECTION_CHANNEL, bytes: payload.length },
            "malformed notification dropped",
          );
          return;
        }
        const session = liveSession(notice.hostId);
        // Our own welcome, or news of an older one: nothing to do. A newer epoch is checked against the row.
        if (!session || notice.epoch <= session.epoch) return;
        runCompare([notice.hostId], "checking a connection taken over elsewhere");
      }),
      notifier.listen(DESIRED_CHANNEL, (payload) => {
        const notice = parseNotice(ZDesiredNotice, payload);
        if (!notice) {
          log.warn({ channel: DESIRED_CHANNEL, bytes: payload.length }, "malformed notification dropped");
          return;
        }
        sendDesiredTo(notice.hostId);
      }),
      notifier.onReconnected(() =>
        runCompare(undefined, "comparing sessions after the listener reconnected"),
      ),
    );
  }

  return {
    start() {
      if (timer !== null || stopped) return;
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      for (const stop of unlisten.splice(0)) stop();
    },
    announceConnection(hostId, epoch) {
      notify(HOST_CONNECTION_CHANNEL, { hostId, epoch, replica: replicaId });
    },
    desiredChanged(hostId) {
      notify(DESIRED_CHANNEL, { hostId });
    },
    compare,
  };
}
