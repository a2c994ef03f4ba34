// Hosts a page at a time, in the order asked for (name by default). The
// label selector is evaluated here (it has operators SQL on a JSON column
// would make awkward), scanning in batches until the page is full, so pages
// stay full whatever the selector keeps.
//
// Every sort ends in the name, which is unique, so the cursor (the last row's
// sort key and name) pins one place. The hosts table holds a few thousand rows
// at most: sorting them takes Postgres about a millisecond, so only the name
// has an index.
import { matchesLabels, parseLabelSelector, type TLabelRequirement } from "@fleet/shared/label-selector";
import type { Prisma, PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { hostLabels, hostViewSelect, type THostRow, type THostView, toHostViews } from "./host-view";
import {
  decodeKeysetCursor,
  encodeKeysetCursor,
  keysetAfter,
  keysetOrderBy,
  type TKeyColumn,
  type TSortDirection,
} from "./keyset-page";

export const MAX_HOSTS_PAGE = 200;

const NAME: TKeyColumn = { field: "name", kind: "string" };

/** The orders the host list offers, each ending in the unique name. */
export const HOST_SORTS = {
  name: [NAME],
  created: [{ field: "createdAt", kind: "date" }, NAME],
  status: [{ field: "status", kind: "enum", order: ["online", "offline"] }, NAME],
  cpuAllocated: [{ field: "cpuAllocatedMillis", kind: "int" }, NAME],
  memoryAllocated: [{ field: "memoryAllocatedBytes", kind: "bigint" }, NAME],
} as const satisfies Record<string, readonly TKeyColumn[]>;

export type THostSort = keyof typeof HOST_SORTS;

export interface TListHostsFilter {
  status?: "online" | "offline";
  draining?: boolean;
  /** Kubernetes-style selector, e.g. `zone=a,!gpu`. */
  label?: string;
  /** Removed hosts are left out unless asked for. */
  includeRemoved?: boolean;
  /** Case-insensitive substring of the name. */
  name?: string;
}

export async function listHosts(options: {
  db: PrismaClient;
  filter: TListHostsFilter;
  cursor?: string | null;
  limit: number;
  sort?: THostSort;
  direction?: TSortDirection;
}): Promise<{ items: THostView[]; nextCursor: string | null; total: number | null }> {
  const { db, filter } = options;
  const sort = options.sort ?? "name";
  const direction = options.direction ?? "asc";
  const columns: readonly TKeyColumn[] = HOST_SORTS[sort];
  const limit = Math.min(Math.max(1, options.limit), MAX_HOSTS_PAGE);
  let requirements: TLabelRequirement[] = [];
  try {
    requirements = parseLabelSelector(filter.label ?? "");
  } catch (error) {
    throw new AppError("BAD_REQUEST", `label: ${error instanceof Error ? error.message : String(error)}`);
  }
  const where: Prisma.HostWhereInput = {
    ...(filter.includeRemoved ? {} : { removedAt: null }),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.draining !== undefined ? { draining: filter.draining } : {}),
    ...(filter.name ? { name: { contains: filter.name, mode: "insensitive" } } : {}),
  };
  // SQL cannot count what the selector keeps without reading every row's labels: no total then.
  // Asked beside the page, not after it: a round trip less on a busy central.
  // (`then` starts it now: a Prisma query is lazy; `catch` keeps a failure for the await below.)
  const total = requirements.length === 0 ? db.host.count({ where }).then((n) => n) : Promise.resolve(null);
  total.catch(() => undefined);
  const batchSize = requirements.length > 0 ? Math.max(2 * limit, 100) : limit + 1;
  const matched: THostRow[] = [];
  let after = options.cursor ? decodeKeysetCursor(options.cursor, sort, direction, columns) : null;
  for (;;) {
    const batch = await db.host.findMany({
      where: after
        ? { AND: [where, keysetAfter(columns, after, direction) as Prisma.HostWhereInput] }
        : where,
      orderBy: keysetOrderBy(columns, direction) as Prisma.HostOrderByWithRelationInput[],
      take: batchSize,
      select: hostViewSelect,
    });
    for (const row of batch) {
      if (requirements.length === 0 || matchesLabels(requirements, hostLabels(row))) matched.push(row);
      if (matched.length > limit) break;
    }
    const last = batch.at(-1);
    if (matched.length > limit || batch.length < batchSize || !last) break;
    after = columns.map((column) => last[column.field as keyof THostRow] as Date | string | number | bigint);
  }
  const page = matched.slice(0, limit);
  const lastOfPage = page.at(-1);
  const [items, count] = await Promise.all([toHostViews(db, page), total]);
  return {
    items,
    nextCursor:
      matched.length > limit && lastOfPage ? encodeKeysetCursor(sort, direction, columns, lastOfPage) : null,
    total: count,
  };
}
