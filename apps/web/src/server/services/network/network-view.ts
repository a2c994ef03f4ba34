// A HostNetwork row as the API shows it, with the containers on that host joining it.
import type { Prisma, PrismaClient } from "../../db/client";
import { hostObjectUsers, type THostObjectUser } from "../host-object/host-object-users";

export const networkViewSelect = {
  id: true,
  hostId: true,
  name: true,
  driver: true,
  internal: true,
  subnet: true,
  gateway: true,
  createdAt: true,
  seenAt: true,
  host: { select: { name: true } },
} satisfies Prisma.HostNetworkSelect;

export type TNetworkRow = Prisma.HostNetworkGetPayload<{ select: typeof networkViewSelect }>;

export interface TNetworkView {
  id: string;
  hostId: string;
  hostName: string;
  name: string;
  driver: string;
  internal: boolean;
  subnet: string | null;
  gateway: string | null;
  createdAt: Date;
  seenAt: Date | null;
  usedBy: THostObjectUser[];
}

export async function toNetworkViews(
  db: Pick<PrismaClient, "$queryRaw">,
  rows: readonly TNetworkRow[],
): Promise<TNetworkView[]> {
  const users = await hostObjectUsers({ db, kind: "network", ids: rows.map((row) => row.id) });
  return rows.map(({ host, ...row }) => ({ ...row, hostName: host.name, usedBy: users.get(row.id) ?? [] }));
}
