// The host a volume or network operation goes to: it must exist and be connected.
import type { PrismaClient } from "../../db";
import { AppError, isAppError } from "../../errors";
import type { OpGateway } from "../image/op-gateway";

export async function connectedHost(options: {
  db: PrismaClient;
  gateway: Pick<OpGateway, "isConnected">;
  hostId: string;
}): Promise<{ id: string; name: string }> {
  const host = await options.db.host.findFirst({
    where: { id: options.hostId, removedAt: null },
    select: { id: true, name: true },
  });
  if (!host) throw new AppError("NOT_FOUND", `no host with id ${options.hostId}`);
  if (!options.gateway.isConnected(host.id)) {
    throw new AppError("PRECONDITION_FAILED", `host ${host.name} is offline`);
  }
  return host;
}

/** The agent's reason an operation failed (`conflict`, `not_found`, …), when it is an operation error. */
export function opFailureOf(error: unknown): string | null {
  // Not `instanceof OpError`: the module can load twice in one process (see errors.ts).
  if (!isAppError(error)) return null;
  const code = (error as { opErrorCode?: unknown }).opErrorCode;
  return typeof code === "string" ? code : null;
}
