// Objects of one kind per host as last stored (refresh-host-objects.ts brings
// them up to date), ordered by host name then name, a page at a time.

import { afterHostObjectCursor, decodeHostObjectCursor, encodeHostObjectCursor } from "./host-object-cursor";
import type {
  TDb,
  THostObjectItem,
  THostObjectKind,
  THostObjectSummary,
  THostObjectWhere,
} from "./host-object-kind";
import { type THostObjectView, withUsers } from "./host-object-users";

export async function listHostObjects<TItem extends THostObjectItem>(options: {
  db: TDb;
  kind: THostObjectKind<TItem, THostObjectSummary, never>;
  hostId?: string | undefined;
  /** Case-insensitive substring of the name. */
  name?: string | undefined;
  cursor?: string | null | undefined;
  limit: number;
}): Promise<{ items: THostObjectView<TItem>[]; nextCursor: string | null }> {
  const and: THostObjectWhere[] = [{ host: { removedAt: null } }];
  if (options.hostId) and.push({ hostId: options.hostId });
  if (options.name) and.push({ name: { contains: options.name, mode: "insensitive" } });
  if (options.cursor) and.push(afterHostObjectCursor(decodeHostObjectCursor(options.cursor)));
  const { db, kind } = options;
  const rows = await kind.find(db, { where: { AND: and }, take: options.limit + 1 });
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    items: await withUsers(db, kind, page),
    nextCursor:
      rows.length > options.limit && last
        ? encodeHostObjectCursor({ hostName: last.hostName, name: last.name, id: last.id })
        : null,
  };
}
