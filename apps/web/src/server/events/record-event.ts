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
 * Many lines in one INSERT over arrays (one bind value per column, however
 * many rows), inside the caller's transaction; the caller publishes the
 * returned rows once it committed.
 */
export async function recordEvents(
  db: PrismaClient | Prisma.TransactionClient,
  events: readonly Omit<RecordEventOptions, "db" | "bus">[],
): Promise<TEventRow[]> {
  if (events.length === 0) return [];
  const now = new Date().toISOString();
  return db.$queryRaw<TEventRow[]>`
    INSERT INTO events (ts, kind, severity, host_id, container_id, deployment_id, message, data)
    SELECT v.ts::timestamptz, v.kind, v.severity::event_severity, v.host_id, v.container_id, v.deployment_id,
      v.message, v.data::jsonb
    FROM unnest(
      ${events.map((event) => event.ts?.toISOString() ?? now)}::text[],
      ${events.map((event) => event.kind)}::text[],
      ${events.map((event) => event.severity ?? "info")}::text[],
      ${events.map((event) => event.hostId ?? null)}::text[],
      ${events.map((event) => event.containerId ?? null)}::text[],
      ${events.map((event) => event.deploymentId ?? null)}::text[],
      ${events.map((event) => event.message)}::text[],
      ${events.map((event) => JSON.stringify(event.data ?? {}))}::text[]
    ) AS v(ts, kind, severity, host_id, container_id, deployment_id, message, data)
    RETURNING id, ts, kind, severity::text AS severity, host_id AS "hostId", container_id AS "containerId",
      deployment_id AS "deploymentId", message, data`;
}
