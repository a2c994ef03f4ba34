// The central replicas that share this database, as rows of
// `central_replicas`: each replica writes its own row at start and a
// heartbeat every 2 s (the database's clock, so replicas' clocks never
// matter), marks it `stopping` when told to stop (SIGTERM: it is draining and
// takes no new agents), and deletes it on a clean stop. A replica killed
// without a word leaves its row behind: rows silent for longer than 30 s no
// longer count and are pruned by whichever replica beats next.
//
// Read by the diagnostics and by the routing of one-off operations, which
// reach the replica holding a host's connection at its `internal_url`. Each
// beat also says how many agents' hellos wait here, which the offline sweep
// reads (gateway/liveness.ts).
//
// May import: the Prisma client.
import type { PrismaClient } from "./client";

export const REPLICA_HEARTBEAT_INTERVAL_MS = 2000;
/** A replica whose heartbeat is older than this is gone (15 missed beats). */
export const REPLICA_STALE_AFTER_MS = 30_000;

export interface LiveReplica {
  id: string;
  internalUrl: string;
  version: string;
  startedAt: Date;
  heartbeatAt: Date;
  stopping: boolean;
}

export interface ReplicaRegistry {
  /** Writes this replica's row and starts the heartbeat. */
  start(): Promise<void>;
  /** Says this replica is draining (SIGTERM); the heartbeat goes on until stop(). */
  markStopping(): Promise<void>;
  /** Ends the heartbeat and deletes this replica's row. */
  stop(): Promise<void>;
  /** Replicas whose heartbeat is recent (this one included once started), oldest first. */
  liveReplicas(): Promise<LiveReplica[]>;
}

export interface ReplicaRegistryOptions {
  db: Pick<PrismaClient, "$executeRaw" | "$queryRaw">;
  /** Read at every beat: the internal URL is known only once the port is bound. */
  replica: { readonly id: string; readonly internalUrl: string };
  /** `<version>+<commit>` of this build. */
  version: string;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Read at every beat: agents' hellos waiting at this replica to be welcomed. */
  hellosWaiting?: () => number;
  heartbeatIntervalMs?: number;
  staleAfterMs?: number;
}

export function createReplicaRegistry(options: ReplicaRegistryOptions): ReplicaRegistry {
  const { db, replica, version, log } = options;
  const intervalMs = options.heartbeatIntervalMs ?? REPLICA_HEARTBEAT_INTERVAL_MS;
  const staleAfterMs = options.staleAfterMs ?? REPLICA_STALE_AFTER_MS;
  let timer: NodeJS.Timeout | null = null;
  let stopping = false;
  let stopped = false;
  let beating: Promise<void> | null = null;
  let failing = false;

  // One statement: the row comes back if another replica pruned it (this one
  // was cut off from the database for longer than the stale limit).
  async function beat(): Promise<void> {
    const hellosWaiting = options.hellosWaiting?.() ?? 0;
    await db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version, started_at, heartbeat_at, stopping, hellos_waiting)
      VALUES (${replica.id}, ${replica.internalUrl}, ${version}, now(), now(), ${stopping}, ${hellosWaiting}::int)
      ON CONFLICT (id) DO UPDATE
         SET heartbeat_at = now(),
             internal_url = EXCLUDED.internal_url,
             version = EXCLUDED.version,
             stopping = EXCLUDED.stopping,
             hellos_waiting = EXCLUDED.hellos_waiting`;
    await db.$executeRaw`
      DELETE FROM central_replicas
       WHERE heartbeat_at < now() - make_interval(secs => ${staleAfterMs / 1000}::float8)`;
  }

  function beatLogged(): Promise<void> {
    beating ??= beat()
      .then(() => {
        if (failing) log.info({ replica: replica.id }, "replica heartbeat written again");
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) log.warn({ err: error, replica: replica.id }, "writing the replica heartbeat failed");
        failing = true;
      })
      .finally(() => {
        beating = null;
      });
    return beating;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void beatLogged().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  return {
    async start() {
      stopped = false;
      await beat();
      log.info({ replica: replica.id, internalUrl: replica.internalUrl, version }, "replica registered");
      if (timer === null) schedule();
    },

    async markStopping() {
      stopping = true;
      await beating;
      await beatLogged();
    },

    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await beating;
      await db.$executeRaw`DELETE FROM central_replicas WHERE id = ${replica.id}`.catch((error: unknown) =>
        log.warn({ err: error, replica: replica.id }, "removing the replica's row failed"),
      );
    },

    async liveReplicas() {
      const rows = await db.$queryRaw<
        {
          id: string;
          internal_url: string;
          version: string;
          started_at: Date;
          heartbeat_at: Date;
          stopping: boolean;
        }[]
      >`
        SELECT id, internal_url, version, started_at, heartbeat_at, stopping
          FROM central_replicas
         WHERE heartbeat_at >= now() - make_interval(secs => ${staleAfterMs / 1000}::float8)
         ORDER BY started_at, id`;
      return rows.map((row) => ({
        id: row.id,
        internalUrl: row.internal_url,
        version: row.version,
        startedAt: row.started_at,
        heartbeatAt: row.heartbeat_at,
        stopping: row.stopping,
      }));
    },
  };
}
