// Removes a named volume (and its data) from its host. Refused while a
// not-removed container there mounts it: the agent would create it again empty.
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import type { EventBus } from "../../event-bus";
import { recordEvent } from "../../gateway/record-event";
import type { OpGateway } from "../image/op-gateway";
import { VOLUME_OP_TIMEOUT_MS } from "./create-volume";
import { opFailureOf } from "./host-object-host";
import { engineInUseMessage, hostObjectUsers, inUseMessage } from "./host-object-users";

export async function removeVolume(options: {
  db: PrismaClient;
  gateway: OpGateway;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  id: string;
  actorEmail: string;
}): Promise<void> {
  const { db, gateway, id } = options;
  const row = await db.hostVolume.findFirst({
    where: { id, host: { removedAt: null } },
    select: { id: true, name: true, hostId: true, host: { select: { name: true } } },
  });
  if (!row) throw new AppError("NOT_FOUND", `no volume with id ${id}`);
  const users = (await hostObjectUsers({ db, kind: "volume", ids: [row.id] })).get(row.id) ?? [];
  if (users.length > 0)
    throw new AppError("CONFLICT", inUseMessage("volume", row.name, row.host.name, users));
  if (!gateway.isConnected(row.hostId)) {
    throw new AppError("PRECONDITION_FAILED", `host ${row.host.name} is not connected`);
  }
  try {
    await gateway.request(
      row.hostId,
      { kind: "volume.remove", name: row.name },
      { timeoutMs: VOLUME_OP_TIMEOUT_MS },
    );
  } catch (error) {
    const failure = opFailureOf(error);
    if (failure === "conflict") {
      const engineMessage = error instanceof Error ? error.message : String(error);
      throw new AppError(
        "CONFLICT",
        await engineInUseMessage({
          db,
          kind: "volume",
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
  await db.hostVolume.deleteMany({ where: { id: row.id } });
  await recordEvent({
    db,
    bus: options.bus,
    kind: "volume.removed",
    hostId: row.hostId,
    message: `${options.actorEmail} removed volume ${row.name} from host ${row.host.name}`,
    data: { volume: row.name, by: options.actorEmail },
    ts: options.now(),
  });
}
