// Creates an object of one kind on one host through its agent, then stores its row.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { type AgentOperations, opFailureOf } from "../agent/agent-operations";
import { connectedHost } from "../host/connected-host";
import type { THostObjectItem, THostObjectKind, THostObjectSummary } from "./host-object-kind";
import { type THostObjectView, withUsers } from "./host-object-users";
import { refreshHostObjectsOf } from "./refresh-host-objects";

export async function createHostObject<
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
>(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  kind: THostObjectKind<TItem, TSummary, TCreate>;
  hostId: string;
  name: string;
  /** What the kind takes beyond the name (a network's `internal`). */
  create: TCreate;
  actorEmail: string;
}): Promise<THostObjectView<TItem>> {
  const { db, gateway, kind, name } = options;
  const host = await connectedHost({ db, gateway, hostId: options.hostId });
  const exists = () => new AppError("CONFLICT", `${kind.noun} ${name} already exists on ${host.name}`);
  const [existing] = await kind.find(db, { where: { hostId: host.id, name } });
  if (existing) throw exists();
  const summary = await kind.agent.create(gateway, host.id, name, options.create).catch(async (error) => {
    if (opFailureOf(error) !== "conflict") throw error;
    // The engine has it already (an agent made it for a container): store it so the list shows it.
    await refreshHostObjectsOf({ db, gateway, kind, hostId: host.id, now: options.now }).catch(() => {});
    throw exists();
  });
  const now = options.now();
  await kind.upsert(db, host.id, summary, now);
  const { adjective, data } = kind.created?.(options.create) ?? { adjective: "", data: {} };
  await recordEvent({
    db,
    bus: options.bus,
    kind: `${kind.noun}.created`,
    hostId: host.id,
    message: `${options.actorEmail} created ${adjective}${kind.noun} ${name} on host ${host.name}`,
    data: { [kind.noun]: name, ...data, by: options.actorEmail },
    ts: now,
  });
  const [view] = await withUsers(db, kind, await kind.find(db, { where: { hostId: host.id, name } }));
  if (!view) throw new Error(`the ${kind.noun} row just written is missing`);
  return view;
}
