import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { eventViewSelect } from "../../events/event-view";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

export const RECENT_CONTAINER_EVENTS = 20;

export interface TContainerEventView {
  /** The bigint id in decimal. */
  id: string;
  ts: Date;
  kind: string;
  severity: "info" | "warning" | "error";
  hostId: string | null;
  message: string;
  data: unknown;
}

/** By id, or by name among containers not removed (a name is unique only among those). */
export async function getContainer(options: {
  db: PrismaClient;
  ref: { id: string } | { name: string };
}): Promise<{ container: TContainerView; events: TContainerEventView[] }> {
  const { db, ref } = options;
  const row =
    "id" in ref
      ? await db.container.findUnique({ where: { id: ref.id }, select: containerViewSelect })
      : await db.container.findFirst({
          where: { name: ref.name, removedAt: null },
          select: containerViewSelect,
        });
  if (!row) {
    throw new AppError(
      "NOT_FOUND",
      "id" in ref ? `no container with id ${ref.id}` : `no container named ${ref.name}`,
    );
  }
  const events = await db.event.findMany({
    where: { containerId: row.id },
    orderBy: [{ ts: "desc" }, { id: "desc" }],
    take: RECENT_CONTAINER_EVENTS,
    select: eventViewSelect,
  });
  return {
    container: toContainerView(row),
    events: events.map((event) => ({
      id: event.id.toString(),
      ts: event.ts,
      kind: event.kind,
      severity: event.severity,
      hostId: event.hostId,
      message: event.message,
      data: event.data,
    })),
  };
}
