// Event rows for what people do to hosts, published once stored.
import type { Prisma } from "../../db/client";
import type { EventBus } from "../../events/event-bus";

export async function recordHostEvent(options: {
  db: Prisma.TransactionClient;
  kind: "host.drain" | "host.removed";
  hostId: string;
  message: string;
  data: Prisma.InputJsonObject;
  ts: Date;
}) {
  const { db, ...event } = options;
  return db.event.create({
    data: { kind: event.kind, hostId: event.hostId, message: event.message, data: event.data, ts: event.ts },
  });
}

export type TStoredHostEvent = Awaited<ReturnType<typeof recordHostEvent>>;

export function publishHostEvent(bus: EventBus, event: TStoredHostEvent): void {
  bus.publish("event", event);
  if (event.hostId) bus.publish("host.changed", { hostId: event.hostId });
}
