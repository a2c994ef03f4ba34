// The tags the fleet's engines hold, each once, for a form that offers them
// as a person types: one DISTINCT over the stored lists, never every host's
// images sent to the browser.
import type { PrismaClient } from "../../db/client";
import { containsPattern } from "../container/list-containers";

export const MAX_IMAGE_TAGS = 200;

export async function listImageTags(options: {
  db: PrismaClient;
  /** Case-insensitive substring of the tag. */
  search?: string | undefined;
  limit: number;
}): Promise<string[]> {
  const pattern = containsPattern(options.search ?? "");
  const rows = await options.db.$queryRaw<{ tag: string }[]>`
    SELECT DISTINCT tag FROM host_images hi
    JOIN hosts h ON h.id = hi.host_id AND h.removed_at IS NULL
    CROSS JOIN LATERAL unnest(hi.repo_tags) AS tag
    WHERE tag ILIKE ${pattern}
    ORDER BY tag
    LIMIT ${Math.min(Math.max(1, options.limit), MAX_IMAGE_TAGS)}`;
  return rows.map((row) => row.tag);
}
