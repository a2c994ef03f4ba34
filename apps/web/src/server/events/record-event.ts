// One line in the event log: stored, then published on the bus so live views
// see it. Used for the gateway's own events (host.joined, host.online, …) and
// for the `event` frames agents send.
import type { TEventSeverity } from "@fleet/shared/domain/event";
import type { Prisma, PrismaClient } from "../db/client";
import { eventViewSelect, type TEventRow } from "./event-view";

export interface RecordEventOptions {
  db: PrismaClient | Prisma.TransactionClient;
  /** Omitted inside a transaction: the caller publishes the returned row once it committed. */
  bus?: { publish(topic: "event", payload: TEventRow): void } | undefined;
  kind: string;
  severity?: TEventSeverity;
  hostId?: string | null;
  containerId?: string | null;
  deploymentId?: string | null;
  message: string;
  data?: Prisma.InputJsonObject;
  ts?: Date;
}

export async function recordEvent(options: RecordEventOptions): Promise<TEventRow> {
  const event = await options.db.event.create({
    data: {
      kind: options.kind,
      severity: options.severity ?? "info",
      hostId: options.hostId ?? null,
      containerId: options.containerId ?? null,
      deploymentId: options.deploymentId ?? null,
      message: options.message,
      data: options.data ?? {},
      ...(options.ts ? { ts: options.ts } : {}),
    },
    select: eventViewSelect,
  });
  options.bus?.publish("event", event);
  return event;
}

/**
 * Many lines in one INSERT, inside the caller's transaction; the caller
 * publishes the returned rows once it committed.
 */
export async function recordEvents(
  db: PrismaClient | Prisma.TransactionClient,
  events: readonly Omit<RecordEventOptions, "db" | "bus">[],
): Promise<TEventRow[]> {
  if (events.length === 0) return [];
  return db.event.createManyAndReturn({
    data: events.map((event) => ({
      kind: event.kind,
      severity: event.severity ?? "info",
      hostId: event.hostId ?? null,
      containerId: event.containerId ?? null,
      deploymentId: event.deploymentId ?? null,
      message: event.message,
      data: event.data ?? {},
      ...(event.ts ? { ts: event.ts } : {}),
    })),
    select: eventViewSelect,
  });
}
