// Event rows for what happens to images (pulled, pull failed, built, removed),
// published on the bus once stored so live views see them.
import type { Prisma, PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";

export type TImageEventKind =
  | "image.pulled"
  | "image.pull-failed"
  | "image.built"
  | "image.build-failed"
  | "image.removed";

export async function recordImageEvent(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  kind: TImageEventKind;
  hostId: string;
  message: string;
  data: Prisma.InputJsonObject;
  now: Date;
}): Promise<void> {
  const { db, bus, kind, hostId, message, data, now } = options;
  const event = await db.event.create({
    data: { kind, severity: kind.endsWith("-failed") ? "error" : "info", hostId, message, data, ts: now },
  });
  bus.publish("event", event);
}
