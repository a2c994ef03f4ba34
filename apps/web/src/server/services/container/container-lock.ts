// Changing one container's desired state: lock its host row, then its own
// row (the order every placement transaction uses: hosts first, then
// containers), change it and the host's allocation together, and apply the
// effects (events, desired-set push) after commit.
import type { Prisma, PrismaClient } from "../../db/client";
import { containerSpecSelect } from "../../db/container-row";
import { AppError } from "../../errors";
import { PLACEMENT_TRANSACTION_OPTIONS } from "../placement/place-containers";
import { applyPlacementEffects, type PlacementDeps, PlacementEffects } from "../placement/placement-effects";
import type { TTransaction } from "../placement/placement-lock";
import { withTransactionRetry } from "../placement/transaction-retry";

export const lockedContainerSelect = {
  id: true,
  name: true,
  hostId: true,
  deploymentId: true,
  replicaIndex: true,
  strategy: true,
  constraints: true,
  requestedAt: true,
  ...containerSpecSelect,
  desiredState: true,
  removedAt: true,
  host: { select: { name: true, removedAt: true } },
} satisfies Prisma.ContainerSelect;

export type TLockedContainer = Prisma.ContainerGetPayload<{ select: typeof lockedContainerSelect }>;

export async function lockHostRow(tx: TTransaction, hostId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM hosts WHERE id = ${hostId} FOR UPDATE`;
}

/** The container's row and its host's row locked by this transaction. */
export async function lockContainer(tx: TTransaction, id: string): Promise<TLockedContainer> {
  const first = await tx.container.findUnique({ where: { id }, select: { hostId: true } });
  if (!first) throw new AppError("NOT_FOUND", `no container with id ${id}`);
  if (first.hostId) await lockHostRow(tx, first.hostId);
  await tx.$queryRaw`SELECT id FROM containers WHERE id = ${id} FOR UPDATE`;
  const row = await tx.container.findUniqueOrThrow({ where: { id }, select: lockedContainerSelect });
  if (row.hostId !== first.hostId) {
    // Moved by a reschedule between the two reads: the lock taken is the wrong host's.
    throw new AppError("CONFLICT", `container ${row.name} was just moved to another host; try again`);
  }
  return row;
}

export interface ChangeContainerOptions extends PlacementDeps {
  db: PrismaClient;
  now: Date;
}

/** One transaction over a locked container, then its effects. */
export async function changeContainer<T>(
  options: ChangeContainerOptions,
  id: string,
  work: (tx: TTransaction, row: TLockedContainer, effects: PlacementEffects) => Promise<T>,
): Promise<T> {
  let effects = new PlacementEffects();
  const result = await withTransactionRetry(() => {
    effects = new PlacementEffects();
    return options.db.$transaction(async (tx) => {
      const row = await lockContainer(tx, id);
      return work(tx, row, effects);
    }, PLACEMENT_TRANSACTION_OPTIONS);
  });
  await applyPlacementEffects(options, effects);
  return result;
}
