// Removes a named volume (and its data) or a user network from its host.
// Refused while a not-removed container there uses it: the agent would create
// it again (a volume, empty).
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { type AgentOperations, opFailureOf } from "../agent/agent-operations";
import { NETWORK_OP_TIMEOUT_MS } from "../network/create-network";
import { VOLUME_OP_TIMEOUT_MS } from "../volume/create-volume";
import { engineInUseMessage, hostObjectUsers, inUseMessage, type THostObjectKind } from "./host-object-users";

export async function removeHostObject(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  kind: THostObjectKind;
  id: string;
  actorEmail: string;
}): Promise<void> {
  const { db, gateway, kind, id } = options;
  const query = {
    where: { id, host: { removedAt: null } },
    select: { id: true, name: true, hostId: true, host: { select: { name: true } } },
  } as const;
  const row =
    kind === "volume" ? await db.hostVolume.findFirst(query) : await db.hostNetwork.findFirst(query);
  if (!row) throw new AppError("NOT_FOUND", `no ${kind} with id ${id}`);
  const users = (await hostObjectUsers({ db, kind, ids: [row.id] })).get(row.id) ?? [];
  if (users.length > 0) throw new AppError("CONFLICT", inUseMessage(kind, row.name, row.host.name, users));
  if (!gateway.isConnected(row.hostId)) {
    throw new AppError("PRECONDITION_FAILED", `host ${row.host.name} is offline`);
  }
  try {
    await gateway.request(
      row.hostId,
      kind === "volume"
        ? { kind: "volume.remove", name: row.name }
        : { kind: "network.remove", name: row.name },
      { timeoutMs: kind === "volume" ? VOLUME_OP_TIMEOUT_MS : NETWORK_OP_TIMEOUT_MS },
    );
  } catch (error) {
    const failure = opFailureOf(error);
    if (failure === "conflict") {
      const engineMessage = error instanceof Error ? error.message : String(error);
      throw new AppError(
        "CONFLICT",
        await engineInUseMessage({
          db,
          kind,
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
  if (kind === "volume") await db.hostVolume.deleteMany({ where: { id: row.id } });
  else await db.hostNetwork.deleteMany({ where: { id: row.id } });
  await recordEvent({
    db,
    bus: options.bus,
    kind: `${kind}.removed`,
    hostId: row.hostId,
    message: `${options.actorEmail} removed ${kind} ${row.name} from host ${row.host.name}`,
    data: { [kind]: row.name, by: options.actorEmail },
    ts: options.now(),
  });
}
