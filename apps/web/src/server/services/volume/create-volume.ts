// Creates a named volume on one host through its agent, then stores its row.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import type { AgentOperations } from "../agent/agent-operations";
import { connectedHost } from "../host/connected-host";
import { upsertHostVolume } from "./store-host-volumes";
import { type TVolumeView, toVolumeViews, volumeViewSelect } from "./volume-view";

export const VOLUME_OP_TIMEOUT_MS = 60_000;

export async function createVolume(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  now: () => Date;
  hostId: string;
  name: string;
  actorEmail: string;
}): Promise<TVolumeView> {
  const { db, gateway, name } = options;
  const host = await connectedHost({ db, gateway, hostId: options.hostId });
  const existing = await db.hostVolume.findUnique({
    where: { hostId_name: { hostId: host.id, name } },
    select: { id: true },
  });
  if (existing) throw new AppError("CONFLICT", `volume ${name} already exists on ${host.name}`);
  const { volume } = await gateway.request(
    host.id,
    { kind: "volume.create", name },
    { timeoutMs: VOLUME_OP_TIMEOUT_MS },
  );
  const now = options.now();
  await upsertHostVolume({ db, hostId: host.id, volume, now });
  await recordEvent({
    db,
    bus: options.bus,
    kind: "volume.created",
    hostId: host.id,
    message: `${options.actorEmail} created volume ${name} on host ${host.name}`,
    data: { volume: name, by: options.actorEmail },
    ts: now,
  });
  const row = await db.hostVolume.findUniqueOrThrow({
    where: { hostId_name: { hostId: host.id, name } },
    select: volumeViewSelect,
  });
  const [view] = await toVolumeViews(db, [row]);
  if (!view) throw new Error("the volume row just written is missing");
  return view;
}
