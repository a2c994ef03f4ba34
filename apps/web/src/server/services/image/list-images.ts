// Images per host, as last reported by each host's agent (see refresh-images.ts).
import type { PrismaClient } from "../../db/client";
import { hostImageViewSelect, type THostImageView, toHostImageView } from "./image-view";

export async function listImages(options: { db: PrismaClient; hostId?: string }): Promise<THostImageView[]> {
  const rows = await options.db.hostImage.findMany({
    where: { host: { removedAt: null }, ...(options.hostId ? { hostId: options.hostId } : {}) },
    orderBy: [{ host: { name: "asc" } }, { createdAt: "desc" }, { imageId: "asc" }],
    select: hostImageViewSelect,
  });
  return rows.map(toHostImageView);
}
