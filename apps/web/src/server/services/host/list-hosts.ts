// Hosts by name, a page at a time. The label selector is evaluated here (it
// has operators SQL on a JSON column would make awkward), scanning in batches
// until the page is full, so pages stay full whatever the selector keeps.
import { matchesLabels, parseLabelSelector, type TLabelRequirement } from "@fleet/shared/label-selector";
import type { Prisma, PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { hostViewSelect, type THostRow, type THostView, toHostView } from "./host-view";

export const MAX_HOSTS_PAGE = 200;

export interface TListHostsFilter {
  status?: "online" | "offline";
  draining?: boolean;
  /** Kubernetes-style selector, e.g. `zone=a,!gpu`. */
  label?: string;
  /** Removed hosts are left out unless asked for. */
  includeRemoved?: boolean;
}

// The cursor is the last name of the previous page: names are unique and
// survive deletes of other rows, unlike offsets.
function encodeCursor(name: string): string {
  return Buffer.from(name, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (name === "" || encodeCursor(name) !== cursor) {
    throw new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out");
  }
  return name;
}

export async function listHosts(options: {
  db: PrismaClient;
  filter: TListHostsFilter;
  cursor?: string | null;
  limit: number;
}): Promise<{ items: THostView[]; nextCursor: string | null }> {
  const { db, filter } = options;
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
  };
  const batchSize = requirements.length > 0 ? Math.max(2 * limit, 100) : limit + 1;
  const matched: THostRow[] = [];
  let after = options.cursor ? decodeCursor(options.cursor) : null;
  for (;;) {
    const batch = await db.host.findMany({
      where: { ...where, ...(after !== null ? { name: { gt: after } } : {}) },
      orderBy: { name: "asc" },
      take: batchSize,
      select: hostViewSelect,
    });
    for (const row of batch) {
      if (requirements.length === 0 || matchesLabels(requirements, toHostView(row).labels)) matched.push(row);
      if (matched.length > limit) break;
    }
    const last = batch.at(-1);
    if (matched.length > limit || batch.length < batchSize || !last) break;
    after = last.name;
  }
  const page = matched.slice(0, limit);
  const lastOfPage = page.at(-1);
  return {
    items: page.map(toHostView),
    nextCursor: matched.length > limit && lastOfPage ? encodeCursor(lastOfPage.name) : null,
  };
}
