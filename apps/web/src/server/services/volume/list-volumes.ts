// Volumes per host as last stored (refresh-volumes.ts brings them up to date),
// ordered by host name then volume name, a page at a time.
import type { Prisma, PrismaClient } from "../../db/client";
import {
  afterHostObjectCursor,
  decodeHostObjectCursor,
  encodeHostObjectCursor,
} from "../host-object/host-object-cursor";
import { type TVolumeView, toVolumeViews, volumeViewSelect } from "./volume-view";

export async function listVolumes(options: {
  db: PrismaClient;
  hostId?: string | undefined;
  /** Case-insensitive substring of the name. */
  name?: string | undefined;
  cursor?: string | null | undefined;
  limit: number;
}): Promise<{ items: TVolumeView[]; nextCursor: string | null }> {
  const { db } = options;
  const and: Prisma.HostVolumeWhereInput[] = [{ host: { removedAt: null } }];
  if (options.hostId) and.push({ hostId: options.hostId });
  if (options.name) and.push({ name: { contains: options.name, mode: "insensitive" } });
  if (options.cursor) and.push(afterHostObjectCursor(decodeHostObjectCursor(options.cursor)));
  const rows = await db.hostVolume.findMany({
    where: { AND: and },
    orderBy: [{ host: { name: "asc" } }, { name: "asc" }, { id: "asc" }],
    take: options.limit + 1,
    select: volumeViewSelect,
  });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    items: await toVolumeViews(db, page),
    nextCursor:
      rows.length > options.limit && last
        ? encodeHostObjectCursor({ hostName: last.host.name, name: last.name, id: last.id })
        : null,
  };
}
