// User networks per host as last stored (refresh-networks.ts brings them up to
// date), ordered by host name then network name, a page at a time.
import type { Prisma, PrismaClient } from "../../db/client";
import {
  afterHostObjectCursor,
  decodeHostObjectCursor,
  encodeHostObjectCursor,
} from "../host-object/host-object-cursor";
import { networkViewSelect, type TNetworkView, toNetworkViews } from "./network-view";

export async function listNetworks(options: {
  db: PrismaClient;
  hostId?: string | undefined;
  /** Case-insensitive substring of the name. */
  name?: string | undefined;
  cursor?: string | null | undefined;
  limit: number;
}): Promise<{ items: TNetworkView[]; nextCursor: string | null }> {
  const { db } = options;
  const and: Prisma.HostNetworkWhereInput[] = [{ host: { removedAt: null } }];
  if (options.hostId) and.push({ hostId: options.hostId });
  if (options.name) and.push({ name: { contains: options.name, mode: "insensitive" } });
  if (options.cursor) and.push(afterHostObjectCursor(decodeHostObjectCursor(options.cursor)));
  const rows = await db.hostNetwork.findMany({
    where: { AND: and },
    orderBy: [{ host: { name: "asc" } }, { name: "asc" }, { id: "asc" }],
    take: options.limit + 1,
    select: networkViewSelect,
  });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    items: await toNetworkViews(db, page),
    nextCursor:
      rows.length > options.limit && last
        ? encodeHostObjectCursor({ hostName: last.host.name, name: last.name, id: last.id })
        : null,
  };
}
