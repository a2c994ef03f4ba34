// Removes an object of one kind (a volume and its data, a user network) from
// its host. Refused while a not-removed container there uses it: the agent
// would create it again (a volume, empty).
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { type AgentOperations, opFailureOf } from "../agent/agent-operations";
import type { TSomeHostObjectKind } from "./host-object-kind";
import { engineInUseMessage, hostObjectUsers, inUseMessage } from "./host-object-users";

export async function removeHostObject(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  kind: TSomeHostObjectKind;
  id: string;
  actorEmail: string;
}): Promise<void> {
  const { db, gateway, kind, id } = options;
  const [row] = await kind.find(db, { where: { id, host: { removedAt: null } } });
  if (!row) throw new AppError("NOT_FOUND", `no ${kind.noun} with id ${id}`);
  const users = (await hostObjectUsers({ db, kind, ids: [row.id] })).get(row.id) ?? [];
  if (users.length > 0) throw new AppError("CONFLICT", inUseMessage(kind, row.name, row.hostName, users));
  if (!(await gateway.isConnected(row.hostId))) {
    throw new AppError("PRECONDITION_FAILED", `host ${row.hostName} is offline`);
  }
  try {
    await kind.agent.remove(gateway, row.hostId, row.name);
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
          hostName: row.hostName,
          engineMessage,
        }),
      );
    }
    // Already gone from the engine: the row is all that is left to remove.
    if (failure !== "not_found") throw error;
  }
  await kind.deleteMany(db, { id: row.id });
  await recordEvent({
    db,
    bus: options.bus,
    kind: `${kind.noun}.removed`,
    hostId: row.hostId,
    message: `${options.actorEmail} removed ${kind.noun} ${row.name} from host ${row.hostName}`,
    data: { [kind.noun]: row.name, by: options.actorEmail },
    ts: options.now(),
  });
}
