// Named volumes as a kind of host object: what the shared services in
// ../host-object need to store, list, create and remove them. Sizes come from
// the engine's disk usage, slow for big volumes, hence the long list timeout.
import type { TVolumeSummary } from "@fleet/shared/protocol/operations";
import { Prisma } from "../../db/client";
import { HOST_OBJECT_ORDER, type THostObjectKind, upsertHostObject } from "../host-object/host-object-kind";

const VOLUME_OP_TIMEOUT_MS = 60_000;
const VOLUME_LIST_TIMEOUT_MS = 60_000;

const volumeSelect = {
  id: true,
  hostId: true,
  name: true,
  driver: true,
  sizeBytes: true,
  labels: true,
  createdAt: true,
  seenAt: true,
  host: { select: { name: true } },
} satisfies Prisma.HostVolumeSelect;

type TVolumeRow = Prisma.HostVolumeGetPayload<{ select: typeof volumeSelect }>;

function stringRecord(value: Prisma.JsonValue): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, entry]) => (typeof entry === "string" ? [[key, entry]] : [])),
  );
}

/** Size as a number, exact below 8 PiB. */
function volumeItem(row: TVolumeRow) {
  return {
    id: row.id,
    hostId: row.hostId,
    hostName: row.host.name,
    name: row.name,
    driver: row.driver,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    labels: stringRecord(row.labels),
    createdAt: row.createdAt,
    seenAt: row.seenAt,
  };
}

export const volumeKind: THostObjectKind<ReturnType<typeof volumeItem>, TVolumeSummary, object, "volume"> = {
  noun: "volume",
  plural: "volumes",
  find: async (db, args) =>
    (await db.hostVolume.findMany({ ...args, orderBy: [...HOST_OBJECT_ORDER], select: volumeSelect })).map(
      volumeItem,
    ),
  deleteMany: (db, where) => db.hostVolume.deleteMany({ where }),
  upsert: (db, hostId, volume, now) =>
    db.hostVolume.upsert(
      upsertHostObject(hostId, volume, now, {
        driver: volume.driver,
        sizeBytes: volume.sizeBytes === null ? null : BigInt(volume.sizeBytes),
        labels: volume.labels,
        seenAt: now,
      }),
    ),
  sql: {
    table: Prisma.sql`host_volumes`,
    usedNames: Prisma.sql`
      SELECT m->>'source' AS name
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.spec->'mounts') = 'array'
                                     THEN c.spec->'mounts' ELSE '[]'::jsonb END) m
      WHERE m->>'type' = 'volume'`,
  },
  agent: {
    create: async (gateway, hostId, name) =>
      (await gateway.request(hostId, { kind: "volume.create", name }, { timeoutMs: VOLUME_OP_TIMEOUT_MS }))
        .volume,
    list: async (gateway, hostId) =>
      (await gateway.request(hostId, { kind: "volume.list" }, { timeoutMs: VOLUME_LIST_TIMEOUT_MS })).volumes,
    remove: (gateway, hostId, name) =>
      gateway.request(hostId, { kind: "volume.remove", name }, { timeoutMs: VOLUME_OP_TIMEOUT_MS }),
  },
};
