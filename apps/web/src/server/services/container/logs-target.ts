// Where a container's logs are: the host it is placed on, which must be
// connected. Shared by the tail and the follow, so both refuse the same way
// and name the container and host as a person knows them.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { AgentOperations } from "../agent/agent-operations";

export interface TLogTarget {
  containerId: string;
  containerName: string;
  hostId: string;
  hostName: string;
}

export async function resolveLogTarget(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "isConnected">;
  containerId: string;
}): Promise<TLogTarget> {
  const { db, gateway, containerId } = options;
  const container = await db.container.findUnique({
    where: { id: containerId },
    select: {
      id: true,
      name: true,
      removedAt: true,
      actualState: true,
      host: { select: { id: true, name: true, removedAt: true } },
    },
  });
  if (!container) throw new AppError("NOT_FOUND", `no container with id ${containerId}`);
  if (container.removedAt) {
    throw new AppError(
      "PRECONDITION_FAILED",
      `container ${container.name} has been removed: its logs are gone`,
    );
  }
  const host = container.host;
  if (!host) {
    throw new AppError(
      "PRECONDITION_FAILED",
      `container ${container.name} has no host yet (it is ${container.actualState}): there are no logs`,
    );
  }
  if (host.removedAt) {
    throw new AppError("PRECONDITION_FAILED", `host ${host.name} has been removed`);
  }
  if (!(await gateway.isConnected(host.id))) {
    throw new AppError("PRECONDITION_FAILED", `host ${host.name} is offline`);
  }
  return { containerId: container.id, containerName: container.name, hostId: host.id, hostName: host.name };
}
