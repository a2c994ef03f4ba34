// Images per host, as last reported by each host's agent (see refresh-images.ts),
// a page of hosts at a time when asked: the hosts holding a matching image,
// by name, after the cursor (the last host name of the previous page). A
// fleet of 2,000 hosts holds tens of thousands of images; a page of hosts
// holds a few hundred.
import { Prisma, type PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { containsPattern } from "../container/list-containers";
import { hostImageViewSelect, type THostImageView, toHostImageView } from "./image-view";

export const MAX_IMAGE_HOSTS_PAGE = 200;

function encodeCursor(hostName: string): string {
  return Buffer.from(hostName, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, "base64url").toString("utf8");
  if (name === "" || encodeCursor(name) !== cursor) {
    throw new AppError("BAD_REQUEST", "cursor: not a cursor this API handed out");
  }
  return name;
}

export async function listImages(options: {
  db: PrismaClient;
  hostId?: string | undefined;
  /** Case-insensitive substring of a tag, the image id or the host's name. */
  search?: string | undefined;
  /** Hosts per page; without it, every host. */
  hosts?: number | undefined;
  cursor?: string | null | undefined;
}): Promise<{ items: THostImageView[]; nextCursor: string | null }> {
  const { db } = options;
  const pattern = options.search ? containsPattern(options.search) : null;
  const matches = pattern
    ? Prisma.sql`(h.name ILIKE ${pattern} OR hi.image_id ILIKE ${pattern}
        OR EXISTS (SELECT 1 FROM unnest(hi.repo_tags) AS tag WHERE tag ILIKE ${pattern}))`
    : Prisma.sql`TRUE`;
  const limit = options.hosts ? Math.min(Math.max(1, options.hosts), MAX_IMAGE_HOSTS_PAGE) : null;
  const after = options.cursor ? decodeCursor(options.cursor) : null;
  const hosts = await db.$queryRaw<{ id: string; name: string }[]>`
    SELECT h.id, h.name FROM hosts h
    WHERE h.removed_at IS NULL
      ${options.hostId ? Prisma.sql`AND h.id = ${options.hostId}` : Prisma.empty}
      ${after !== null ? Prisma.sql`AND h.name > ${after}` : Prisma.empty}
      AND EXISTS (SELECT 1 FROM host_images hi WHERE hi.host_id = h.id AND ${matches})
    ORDER BY h.name
    ${limit !== null ? Prisma.sql`LIMIT ${limit + 1}` : Prisma.empty}`;
  const page = limit !== null ? hosts.slice(0, limit) : hosts;
  if (page.length === 0) return { items: [], nextCursor: null };
  const rows = await db.hostImage.findMany({
    where: { hostId: { in: page.map((host) => host.id) } },
    orderBy: [{ host: { name: "asc" } }, { createdAt: "desc" }, { imageId: "asc" }],
    select: hostImageViewSelect,
  });
  // The hosts' images that match, by the same rule as the SQL that chose the hosts.
  const needle = options.search?.toLowerCase();
  const matching = needle
    ? rows.filter(
        (row) =>
          row.host.name.toLowerCase().includes(needle) ||
          row.imageId.toLowerCase().includes(needle) ||
          row.repoTags.some((tag) => tag.toLowerCase().includes(needle)),
      )
    : rows;
  const last = page.at(-1);
  return {
    items: matching.map(toHostImageView),
    nextCursor: limit !== null && hosts.length > limit && last ? encodeCursor(last.name) : null,
  };
}
