// The host a one-off operation goes to (an image build or removal, a volume or
// network change): it must exist and its agent must be connected.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { AgentOperations } from "../agent/agent-operations";

export async function connectedHost(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "isConnected">;
  hostId: string;
}): Promise<{ id: string; name: string }> {
  const host = await options.db.host.findFirst({
    where: { id: options.hostId, removedAt: null },
    select: { id: true, name: true },
  });
  if (!host) throw new AppError("NOT_FOUND", `no host with id ${options.hostId}`);
  if (!(await options.gateway.isConnected(host.id))) {
    throw new AppError("PRECONDITION_FAILED", `host ${host.name} is offline`);
  }
  return host;
}
