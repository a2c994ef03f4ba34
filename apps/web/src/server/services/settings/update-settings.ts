// An administrator changes fleet-wide settings. Containers already placed keep
// their bind mounts: the allowlist is checked when a container is placed.
import type { PrismaClient } from "../../db";
import type { EventBus } from "../../event-bus";
import { recordEvent } from "../../gateway/record-event";
import { ZBindMountPrefixes } from "./bind-mount-prefixes";
import { BIND_MOUNTS_SETTING_KEY, type TSettings } from "./get-settings";

export async function updateSettings(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
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
  return { bindMountPrefixes };
}
