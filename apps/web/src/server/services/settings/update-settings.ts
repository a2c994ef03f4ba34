// An administrator changes fleet-wide settings. Containers already running
// keep their bind mounts: the central checks the allowlist when a container is
// placed, and each agent checks the real paths against it whenever it creates
// a container (also when it replaces or recreates one already placed). The
// list travels with every desired set, so connected hosts get it at once,
// whichever central replica holds their connection.
import { ZBindMountPrefixes } from "@fleet/shared/domain/container-spec";
import type { PrismaClient } from "../../db/client";
import { BIND_MOUNTS_SETTING_KEY } from "../../db/setting-rows";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import type { Logger } from "../../logger";
import type { DesiredStatePusher } from "../placement/placement-effects";
import type { TSettings } from "./get-settings";

export async function updateSettings(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  desired: DesiredStatePusher;
  log: Logger;
  now: () => Date;
  bindMountPrefixes: readonly string[];
  actorId: string;
  actorEmail: string;
}): Promise<TSettings> {
  const { db } = options;
  // Parsed again so a caller other than the router cannot store what the schema refuses.
  const bindMountPrefixes = ZBindMountPrefixes.parse(options.bindMountPrefixes);
  const now = options.now();
  await db.setting.upsert({
    where: { key: BIND_MOUNTS_SETTING_KEY },
    create: {
      key: BIND_MOUNTS_SETTING_KEY,
      value: bindMountPrefixes,
      updatedAt: now,
      updatedById: options.actorId,
    },
    update: { value: bindMountPrefixes, updatedAt: now, updatedById: options.actorId },
  });
  await recordEvent({
    db,
    bus: options.bus,
    kind: "settings.updated",
    message:
      bindMountPrefixes.length === 0
        ? `${options.actorEmail} allowed no host paths for bind mounts`
        : `${options.actorEmail} allowed bind mounts under ${bindMountPrefixes.join(", ")}`,
    data: { bindMountPrefixes, by: options.actorEmail },
    ts: now,
  });
  // A host not connected now gets the new list with the desired set sent at its welcome.
  const connected = await db.host.findMany({
    where: { connectedReplica: { not: null }, removedAt: null },
    select: { id: true },
  });
  await Promise.all(
    connected.map(({ id: hostId }) =>
      options.desired.pushDesired(hostId).catch((error: unknown) => {
        options.log.warn({ err: error, hostId }, "pushing the new bind mount prefixes to a host failed");
      }),
    ),
  );
  return { bindMountPrefixes };
}
