// Containers newest first, a page at a time. The cursor is the last row's
// (createdAt, id): stable while rows are added or removed, unlike offsets,
// and served by the (created_at, id) indexes.
import type { TContainerHealth } from "@fleet/shared/domain/container-spec";
import type { Prisma, PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import {
  containerViewSelect,
  type TContainerActualState,
  type TContainerView,
  toContainerView,
} from "./container-view";

export const MAX_CONTAINERS_PAGE = 200;

export interface TListContainersFilter {
  hostId?: string | undefined;
  deploymentId?: string | undefined;
  /** Actual states to keep (any of them). */
  states?: readonly TContainerActualState[] | undefined;
  /** Health verdicts to keep (any of them). */
  health?: readonly TContainerHealth[] | undefined;
  /** Case-insensitive substring of the image reference. */
  image?: string | undefined;
  /** Case-insensitive substring of the name. */
  name?: string | undefined;
  /** Removed containers are left out unless asked for. */
  includeRemoved?: boolean | undefined;
}

function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  const createdAt = new Date(text.slice(0, bar));
  const id = text.slice(bar + 1);
  if (
    bar < 1 ||
    Number.isNaN(createdAt.getTime()) ||
    !/^[A-Za-z0-9_-]+$/.test(id) ||
    encodeCursor({ createdAt, id }) !== cursor
  ) {
    throw new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out");
  }
  return { createdAt, id };
}

export async function listContainers(options: {
  db: PrismaClient;
  filter: TListContainersFilter;
  cursor?: string | null | undefined;
  limit: number;
}): Promise<{ items: TContainerView[]; nextCursor: string | null }> {
  const { db, filter } = options;
  const limit = Math.min(Math.max(1, options.limit), MAX_CONTAINERS_PAGE);
  const and: Prisma.ContainerWhereInput[] = [];
  if (!filter.includeRemoved) and.push({ removedAt: null });
  if (filter.hostId) and.push({ hostId: filter.hostId });
  if (filter.deploymentId) and.push({ deploymentId: filter.deploymentId });
  if (filter.states && filter.states.length > 0) and.push({ actualState: { in: [...filter.states] } });
  if (filter.health && filter.health.length > 0) and.push({ health: { in: [...filter.health] } });
  if (filter.image) and.push({ image: { contains: filter.image, mode: "insensitive" } });
  if (filter.name) and.push({ name: { contains: filter.name, mode: "insensitive" } });
  if (options.cursor) {
    const after = decodeCursor(options.cursor);
    and.push({
      OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
    });
  }
  const rows = await db.container.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: containerViewSelect,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toContainerView),
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}
