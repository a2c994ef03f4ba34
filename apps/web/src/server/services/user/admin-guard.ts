// The fleet must keep at least one active administrator: the changes that
// could remove the last one run under one advisory lock, so two concurrent
// demotions cannot both see "another admin is left".
import type { Prisma } from "../../db/client";
import { AppError } from "../../errors";

// Arbitrary, fixed: the advisory lock key for changes to administrators.
const ADMINS_LOCK_KEY = 72_707_371;

export async function lockAdministrators(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMINS_LOCK_KEY}::bigint)`;
}

/** Throws unless an active administrator other than `userId` exists. Call after lockAdministrators. */
export async function assertAnotherActiveAdmin(
  tx: Prisma.TransactionClient,
  userId: string,
  what: string,
): Promise<void> {
  const others = await tx.user.count({ where: { role: "admin", disabledAt: null, id: { not: userId } } });
  if (others === 0) {
    throw new AppError("PRECONDITION_FAILED", `cannot ${what}: it is the last active administrator`);
  }
}
