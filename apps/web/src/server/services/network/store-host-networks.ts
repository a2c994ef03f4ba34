// Brings a host's HostNetwork rows in line with what its engine listed. Only
// user networks count: the engine's own (bridge, host, none, podman) are
// skipped. Rows of networks the engine no longer has are deleted, except those
// a not-removed container on that host still joins (its agent creates the
// network again when it starts it).
import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import type { TNetworkSummary } from "@fleet/shared/protocol/operations";
import type { Prisma, PrismaClient } from "../../db/client";
import { namesInUseOnHost } from "../host-object/host-object-users";

/** Whether a listed network is one a user made (a name a spec may join). */
export function isUserNetwork(network: Pick<TNetworkSummary, "name">): boolean {
  return ZNetworkName.safeParse(network.name).success;
}

function networkData(network: TNetworkSummary, now: Date) {
  return {
    engineId: network.id,
    driver: network.driver,
    internal: network.internal,
    subnet: network.subnet,
    gateway: network.gateway,
    seenAt: now,
  };
}

export async function upsertHostNetwork(options: {
  db: PrismaClient | Prisma.TransactionClient;
  hostId: string;
  network: TNetworkSummary;
  now: Date;
}): Promise<void> {
  const { db, hostId, network, now } = options;
  await db.hostNetwork.upsert({
    where: { hostId_name: { hostId, name: network.name } },
    create: {
      hostId,
      name: network.name,
      createdAt: network.createdAt ? new Date(network.createdAt) : now,
      ...networkData(network, now),
    },
    update: networkData(network, now),
  });
}

/** Stores the host's user networks; returns how many there are. */
export async function storeHostNetworks(options: {
  db: PrismaClient;
  hostId: string;
  networks: TNetworkSummary[];
  now: Date;
}): Promise<number> {
  const { db, hostId, now } = options;
  const networks = options.networks.filter(isUserNetwork);
  await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM hosts WHERE id = ${hostId} FOR UPDATE`;
    const inUse = await namesInUseOnHost({ db: tx, kind: "network", hostId });
    const keep = [...new Set([...networks.map((network) => network.name), ...inUse])];
    await tx.hostNetwork.deleteMany({ where: { hostId, name: { notIn: keep } } });
    for (const network of networks) await upsertHostNetwork({ db: tx, hostId, network, now });
  });
  return networks.length;
}
