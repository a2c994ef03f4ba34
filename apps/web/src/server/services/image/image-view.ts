// A HostImage row as the API shows it: which host holds the image, its tags
// and digests, and its size as a number (exact below 8 PiB).
import type { Prisma } from "../../db/client";

export const hostImageViewSelect = {
  hostId: true,
  imageId: true,
  repoTags: true,
  repoDigests: true,
  sizeBytes: true,
  createdAt: true,
  seenAt: true,
  host: { select: { name: true } },
} satisfies Prisma.HostImageSelect;

export type THostImageRow = Prisma.HostImageGetPayload<{ select: typeof hostImageViewSelect }>;

export interface THostImageView {
  hostId: string;
  hostName: string;
  /** The engine's image id, `sha256:<hex>`. */
  id: string;
  tags: string[];
  /** `repository@sha256:…`, one per registry the image came from or went to. */
  digests: string[];
  sizeBytes: number;
  /** When the image was built. */
  createdAt: Date;
  /** When its host last listed it. */
  seenAt: Date;
}

export function toHostImageView(row: THostImageRow): THostImageView {
  return {
    hostId: row.hostId,
    hostName: row.host.name,
    id: row.imageId,
    tags: row.repoTags,
    digests: row.repoDigests,
    sizeBytes: Number(row.sizeBytes),
    createdAt: row.createdAt,
    seenAt: row.seenAt,
  };
}
