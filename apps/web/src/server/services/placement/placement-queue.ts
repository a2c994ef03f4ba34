// Placement transactions lock every candidate host, so they run one at a
// time in the database anyway. Queuing them here first keeps the waiting in
// memory instead of in pooled connections: without it, a burst of runs fills
// the connection pool with transactions blocked on host locks, and every
// other query of the central (desired-set pushes, status updates, reads)
// waits behind them. The database locks remain what guarantees correctness
// (several central processes, other writers); this only saves connections.
import type { PrismaClient } from "../../db/client";

// Keyed by client, not global: two test servers in one process keep separate queues.
const tails = new WeakMap<PrismaClient, Promise<unknown>>();

export function queuePlacement<T>(db: PrismaClient, run: () => Promise<T>): Promise<T> {
  const previous = tails.get(db) ?? Promise.resolve();
  const result = previous.then(run, run);
  tails.set(
    db,
    result.catch(() => {}),
  );
  return result;
}
