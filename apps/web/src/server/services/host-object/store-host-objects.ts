// Brings a host's rows of one kind in line with what its engine listed:
// upserts each listed object the kind stores (seen now) and deletes the rows
// of objects the engine no longer has, except those a not-removed container on
// that host still uses (its agent creates the object again when it starts it).
import type { PrismaClient } from "../../db/client";
import type { THostObjectItem, THostObjectKind, THostObjectSummary } from "./host-object-kind";
import { namesInUseOnHost } from "./host-object-users";

/** Stores the host's objects; returns how many it holds that the kind stores. */
export async function storeHostObjects<
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
>(options: {
  db: PrismaClient;
  kind: THostObjectKind<TItem, TSummary, TCreate>;
  hostId: string;
  listed: TSummary[];
  now: Date;
}): Promise<number> {
  const { db, kind, hostId, now } = options;
  const stored = options.listed.filter((summary) => kind.stores?.(summary) ?? true);
  await db.$transaction(async (tx) => {
    // Serialized with placement, which writes volume rows under the same host lock.
    await tx.$queryRaw`SELECT 1 FROM hosts WHERE id = ${hostId} FOR UPDATE`;
    const inUse = await namesInUseOnHost({ db: tx, kind, hostId });
    const keep = [...new Set([...stored.map((summary) => summary.name), ...inUse])];
    await kind.deleteMany(tx, { hostId, name: { notIn: keep } });
    for (const summary of stored) await kind.upsert(tx, hostId, summary, now);
  });
  return stored.length;
}
