// Brings a host's HostVolume rows in line with what its engine listed: upserts
// each listed volume (seen now, with its size) and deletes the rows of volumes
// the engine no longer has, except those a not-removed container on that host
// still mounts (its agent creates the volume again when it starts it).
import type { TVolumeSummary } from "@fleet/shared/protocol/operations";
import type { Prisma, PrismaClient } from "../../db/client";
import { namesInUseOnHost } from "../host-object/host-object-users";

function volumeData(volume: TVolumeSummary, now: Date) {
  return {
    driver: volume.driver,
    sizeBytes: volume.sizeBytes === null ? null : BigInt(volume.sizeBytes),
    labels: volume.labels,
    seenAt: now,
  };
}

/** Upserts one volume the engine reported (created or listed). */
export async function upsertHostVolume(options: {
  db: PrismaClient | Prisma.TransactionClient;
  hostId: string;
  volume: TVolumeSummary;
  now: Date;
}): Promise<void> {
  const { db, hostId, volume, now } = options;
  await db.hostVolume.upsert({
    where: { hostId_name: { hostId, name: volume.name } },
    create: {
      hostId,
      name: volume.name,
      createdAt: volume.createdAt ? new Date(volume.createdAt) : now,
      ...volumeData(volume, now),
    },
    update: volumeData(volume, now),
  });
}

export async function storeHostVolumes(options: {
  db: PrismaClient;
  hostId: string;
  volumes: TVolumeSummary[];
  now: Date;
}): Promise<void> {
  const { db, hostId, volumes, now } = options;
  await db.$transaction(async (tx) => {
    // Serialized with placement, which writes volume rows under the same host lock.
    await tx.$queryRaw`SELECT 1 FROM hosts WHERE id = ${hostId} FOR UPDATE`;
    const inUse = await namesInUseOnHost({ db: tx, kind: "volume", hostId });
    const keep = [...new Set([...volumes.map((volume) => volume.name), ...inUse])];
    await tx.hostVolume.deleteMany({ where: { hostId, name: { notIn: keep } } });
    for (const volume of volumes) await upsertHostVolume({ db: tx, hostId, volume, now });
  });
}
