// A draining host keeps what runs on it but gets nothing new from the scheduler.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { publishHostEvent, recordHostEvent } from "./host-events";
import { hostViewSelect, type THostView, toOneHostView } from "./host-view";

export async function drainHost(options: {
  db: PrismaClient;
  bus: EventBus;
  now: Date;
  id: string;
  draining: boolean;
  actorEmail: string;
}): Promise<THostView> {
  const { db, bus, now, id, draining, actorEmail } = options;
  const result = await db.$transaction(async (tx) => {
    const host = await tx.host.findUnique({
      where: { id },
      select: { name: true, draining: true, removedAt: true },
    });
    if (!host) throw new AppError("NOT_FOUND", `no host with id ${id}`);
    if (host.removedAt) throw new AppError("PRECONDITION_FAILED", `host ${host.name} has been removed`);
    if (host.draining === draining) return { event: null };
    await tx.host.update({ where: { id }, data: { draining }, select: { id: true } });
    const event = await recordHostEvent({
      db: tx,
      kind: "host.drain",
      hostId: id,
      message: draining
        ? `${actorEmail} drained host ${host.name}: nothing new is placed on it`
        : `${actorEmail} ended the drain of host ${host.name}`,
      data: { draining, by: actorEmail },
      ts: now,
    });
    return { event };
  });
  if (result.event) publishHostEvent(bus, result.event);
  const row = await db.host.findUniqueOrThrow({ where: { id }, select: hostViewSelect });
  return toOneHostView(db, row);
}
