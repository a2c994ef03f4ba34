// Removes a user network from its host. Refused while a not-removed container
// there joins it: the agent would create it again.
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import type { EventBus } from "../../event-bus";
import { recordEvent } from "../../gateway/record-event";
import type { OpGateway } from "../image/op-gateway";
import { opFailureOf } from "../volume/host-object-host";
import { engineInUseMessage, hostObjectUsers, inUseMessage } from "../volume/host-object-users";
import { NETWORK_OP_TIMEOUT_MS } from "./create-network";

export async function removeNetwork(options: {
  db: PrismaClient;
  gateway: OpGateway;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  id: string;
  actorEmail: string;
}): Promise<void> {
  const { db, gateway, id } = options;
  const row = await db.hostNetwork.findFirst({
    where: { id, host: { removedAt: null } },
    select: { id: true, name: true, hostId: true, host: { select: { name: true } } },
  });
  if (!row) throw new AppError("NOT_FOUND", `no network with id ${id}`);
  const users = (await hostObjectUsers({ db, kind: "network", ids: [row.id] })).get(row.id) ?? [];
  if (users.length > 0)
    throw new AppError("CONFLICT", inUseMessage("network", row.name, row.host.name, users));
  if (!gateway.isConnected(row.hostId)) {
    throw new AppError("PRECONDITION_FAILED", `host ${row.host.name} is not connected`);
  }
  try {
    await gateway.request(
      row.hostId,
      { kind: "network.remove", name: row.name },
      { timeoutMs: NETWORK_OP_TIMEOUT_MS },
    );
  } catch (error) {
    const failure = opFailureOf(error);
    if (failure === "conflict") {
      const engineMessage = error instanceof Error ? error.message : String(error);
      throw new AppError(
        "CONFLICT",
        await engineInUseMessage({
          db,
          kind: "network",
          id: row.id,
          name: row.name,
          hostName: row.host.name,
          engineMessage,
        }),
      );
    }
    // Already gone from the engine: the row is all that is left to remove.
    if (failure !== "not_found") throw error;
  }
  await db.hostNetwork.deleteMany({ where: { id: row.id } });
  await recordEvent({
    db,
    bus: options.bus,
    kind: "network.removed",
    hostId: row.hostId,
    message: `${options.actorEmail} removed network ${row.name} from host ${row.host.name}`,
    data: { network: row.name, by: options.actorEmail },
    ts: options.now(),
  });
}
