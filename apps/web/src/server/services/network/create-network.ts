// Creates a user network on one host through its agent, then stores its row.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import type { AgentOperations } from "../agent/agent-operations";
import { opFailureOf } from "../agent/agent-operations";
import { connectedHost } from "../host/connected-host";
import { networkViewSelect, type TNetworkView, toNetworkViews } from "./network-view";
import { refreshHostNetworks } from "./refresh-networks";
import { upsertHostNetwork } from "./store-host-networks";

export const NETWORK_OP_TIMEOUT_MS = 60_000;

export async function createNetwork(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  hostId: string;
  name: string;
  internal: boolean;
  actorEmail: string;
}): Promise<TNetworkView> {
  const { db, gateway, name, internal } = options;
  const host = await connectedHost({ db, gateway, hostId: options.hostId });
  const existing = await db.hostNetwork.findUnique({
    where: { hostId_name: { hostId: host.id, name } },
    select: { id: true },
  });
  if (existing) throw new AppError("CONFLICT", `network ${name} already exists on ${host.name}`);
  const { network } = await gateway
    .request(host.id, { kind: "network.create", name, internal }, { timeoutMs: NETWORK_OP_TIMEOUT_MS })
    .catch(async (error: unknown) => {
      if (opFailureOf(error) !== "conflict") throw error;
      // The engine has it already (an agent made it for a container): store it so the list shows it.
      await refreshHostNetworks({ db, gateway, hostId: host.id, now: options.now }).catch(() => {});
      throw new AppError("CONFLICT", `network ${name} already exists on ${host.name}`);
    });
  const now = options.now();
  await upsertHostNetwork({ db, hostId: host.id, network, now });
  await recordEvent({
    db,
    bus: options.bus,
    kind: "network.created",
    hostId: host.id,
    message: `${options.actorEmail} created ${internal ? "internal " : ""}network ${name} on host ${host.name}`,
    data: { network: name, internal, by: options.actorEmail },
    ts: now,
  });
  const row = await db.hostNetwork.findUniqueOrThrow({
    where: { hostId_name: { hostId: host.id, name } },
    select: networkViewSelect,
  });
  const [view] = await toNetworkViews(db, [row]);
  if (!view) throw new Error("the network row just written is missing");
  return view;
}
