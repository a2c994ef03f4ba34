// A placement transaction over one deployment: the candidate hosts and the
// hosts its replicas run on are locked (id order), then the deployment row,
// then its live replica rows, so scaling and removal see a stable set.
import { AppError } from "../../errors";
import { lockedContainerSelect, type TLockedContainer } from "../container/container-lock";
import {
  type RunPlacementOptions,
  runPlacement,
  type TPlacementContext,
} from "../placement/place-containers";

export interface TLockedDeployment {
  id: string;
  name: string;
  spec: unknown;
  replicas: number;
  strategy: "binpack" | "spread";
  constraints: string;
  revision: number;
  updatePolicy: unknown;
  removedAt: Date | null;
}

export async function changeDeployment<T>(
  options: RunPlacementOptions,
  id: string,
  work: (ctx: TPlacementContext, deployment: TLockedDeployment, replicas: TLockedContainer[]) => Promise<T>,
): Promise<T> {
  const { db } = options;
  const placedOn = await db.container.findMany({
    where: { deploymentId: id, removedAt: null, hostId: { not: null } },
    select: { hostId: true },
    distinct: ["hostId"],
  });
  const alsoLockHostIds = placedOn.flatMap((row) => (row.hostId ? [row.hostId] : []));
  return runPlacement({ ...options, alsoLockHostIds }, async (ctx) => {
    const { tx } = ctx;
    await tx.$queryRaw`SELECT id FROM deployments WHERE id = ${id} FOR UPDATE`;
    const deployment = await tx.deployment.findUnique({
      where: { id },
      select: {
        id: true,
        name: true,
        spec: true,
        replicas: true,
        strategy: true,
        constraints: true,
        revision: true,
        updatePolicy: true,
        removedAt: true,
      },
    });
    if (!deployment) throw new AppError("NOT_FOUND", `no deployment with id ${id}`);
    await tx.$queryRaw`
      SELECT id FROM containers WHERE deployment_id = ${id} AND removed_at IS NULL ORDER BY id FOR UPDATE`;
    const replicas = await tx.container.findMany({
      where: { deploymentId: id, removedAt: null },
      orderBy: [{ replicaIndex: "asc" }, { createdAt: "asc" }],
      select: lockedContainerSelect,
    });
    const moved = replicas.find(
      (replica) => replica.hostId && !ctx.cluster.lockedHostIds.has(replica.hostId),
    );
    if (moved) {
      throw new AppError("CONFLICT", `replica ${moved.name} was just moved to another host; try again`);
    }
    return work(ctx, deployment, replicas);
  });
}
