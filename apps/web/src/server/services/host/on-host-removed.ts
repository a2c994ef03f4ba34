// What else has to happen once an administrator removed a host.
import type { PrismaClient } from "../../db";
import type { EventBus } from "../../event-bus";
import type { Logger } from "../../logger";

export interface OnHostRemovedOptions {
  db: PrismaClient;
  bus: EventBus;
  log: Logger;
  hostId: string;
}

/**
 * Runs after the host row is marked removed and its credential cleared.
 * TODO(scheduler): mark the host's live containers for rescheduling (those
 * whose restart policy allows it) and place them elsewhere; until then they
 * stay assigned to the removed host and are shown as such.
 */
export async function onHostRemoved(options: OnHostRemovedOptions): Promise<void> {
  const { db, log, hostId } = options;
  const stranded = await db.container.count({ where: { hostId, removedAt: null } });
  if (stranded > 0)
    log.warn({ hostId, stranded }, "removed host still holds containers; rescheduling is not built yet");
}
