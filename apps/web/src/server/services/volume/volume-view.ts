// A HostVolume row as the API shows it: its host, size as a number (exact
// below 8 PiB), and the containers on that host that mount it.
import type { Prisma, PrismaClient } from "../../db/client";
import { hostObjectUsers, type THostObjectUser } from "../host-object/host-object-users";

export const volumeViewSelect = {
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

export type TVolumeRow = Prisma.HostVolumeGetPayload<{ select: typeof volumeViewSelect }>;

export interface TVolumeView {
  id: string;
  hostId: string;
  hostName: string;
  name: string;
  driver: string;
  sizeBytes: number | null;
  labels: Record<string, string>;
  createdAt: Date;
  seenAt: Date | null;
  usedBy: THostObjectUser[];
}

function stringRecord(value: Prisma.JsonValue): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).flatMap(([key, entry]) => (typeof entry === "string" ? [[key, entry]] : [])),
  );
}

export async function toVolumeViews(
  db: Pick<PrismaClient, "$queryRaw">,
  rows: readonly TVolumeRow[],
): Promise<TVolumeView[]> {
  const users = await hostObjectUsers({ db, kind: "volume", ids: rows.map((row) => row.id) });
  return rows.map((row) => ({
    id: row.id,
    hostId: row.hostId,
    hostName: row.host.name,
    name: row.name,
    driver: row.driver,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    labels: stringRecord(row.labels),
    createdAt: row.createdAt,
    seenAt: row.seenAt,
    usedBy: users.get(row.id) ?? [],
  }));
}
