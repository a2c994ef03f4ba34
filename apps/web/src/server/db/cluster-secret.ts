// The secret the central replicas that share a database prove themselves with
// when they call each other (`/internal/*` on PORT: one-off operations of a
// host held by another replica, build contexts held by another replica). It
// lives in the database because that is what the replicas already share: the
// first replica to need it makes it (32 random bytes), every other one reads
// the same row. Nothing serves it: no API returns it and no log prints it.
//
// May import: the Prisma client (types), node:crypto.
import { randomBytes } from "node:crypto";
import type { PrismaClient } from "./client";

/** The row's name in cluster_secrets. */
export const INTERNAL_CALLS_SECRET = "internal-calls";

/** Reads the secret, making it first if no replica has (one row, whoever wins the race). */
export async function readClusterSecret(db: PrismaClient, name = INTERNAL_CALLS_SECRET): Promise<Buffer> {
  // INSERT … ON CONFLICT DO NOTHING: two replicas starting at once both read the winner's value.
  await db.clusterSecret.createMany({
    data: [{ name, value: randomBytes(32).toString("base64url") }],
    skipDuplicates: true,
  });
  const row = await db.clusterSecret.findUniqueOrThrow({ where: { name }, select: { value: true } });
  return Buffer.from(row.value, "utf8");
}

/**
 * The secret for one process's replica: read once, then kept (the row never
 * changes). A failed read (the database away) is tried again on the next call.
 */
export function clusterSecretSource(db: PrismaClient): () => Promise<Buffer> {
  let pending: Promise<Buffer> | null = null;
  return () => {
    pending ??= readClusterSecret(db).catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
