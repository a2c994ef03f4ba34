// Taking a host out of the fleet: its row stays (history, events, samples
// keep their subject) but is marked removed, its credential stops working at
// once, and the gateway is told to drop its connection.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { publishHostEvent, recordHostEvent } from "./host-events";
import { hostViewSelect, type THostView, toOneHostView } from "./host-view";

export async function removeHost(options: {
  db: PrismaClient;
  bus: EventBus;
  now: Date;
  id: string;
  actorEmail: string;
  /** The follow-up work: the rescheduler moves the host's containers elsewhere. */
  onHostRemoved: (hostId: string) => Promise<void>;
}): Promise<THostView> {
  const { db, bus, now, id, actorEmail } = options;
  const event = await db.$transaction(async (tx) => {
    const host = await tx.host.findUnique({ where: { id }, select: { name: true, removedAt: true } });
    if (!host) throw new AppError("NOT_FOUND", `no host with id ${id}`);
    // Removing twice is not an error: the outcome is the same.
    if (host.removedAt) return null;
    await tx.host.update({
      where: { id },
      data: { removedAt: now, credentialHash: null, status: "offline", draining: true },
      select: { id: true },
    });
    return recordHostEvent({
      db: tx,
      kind: "host.removed",
      hostId: id,
      message: `${actorEmail} removed host ${host.name} from the fleet`,
      data: { by: actorEmail },
      ts: now,
    });
  });
  if (event) {
    bus.publish("host.removed", { hostId: id });
    publishHostEvent(bus, event);
    await options.onHostRemoved(id);
  }
  const row = await db.host.findUniqueOrThrow({ where: { id }, select: hostViewSelect });
  return toOneHostView(db, row);
}
