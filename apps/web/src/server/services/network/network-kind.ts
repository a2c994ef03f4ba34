// User networks as a kind of host object: what the shared services in
// ../host-object need to store, list, create and remove them. Only user
// networks are stored: the engine's own (bridge, host, none, podman) are not
// names a spec may join.
import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import type { TNetworkSummary } from "@fleet/shared/protocol/operations";
import { Prisma } from "../../db/client";
import { HOST_OBJECT_ORDER, type THostObjectKind, upsertHostObject } from "../host-object/host-object-kind";

const NETWORK_OP_TIMEOUT_MS = 60_000;
const NETWORK_LIST_TIMEOUT_MS = 30_000;

const networkSelect = {
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

type TNetworkRow = Prisma.HostNetworkGetPayload<{ select: typeof networkSelect }>;

/** `internal`: no route out of the host. */
export const networkKind: THostObjectKind<
  Omit<TNetworkRow, "host"> & { hostName: string },
  TNetworkSummary,
  { internal: boolean },
  "network"
> = {
  noun: "network",
  plural: "networks",
  find: async (db, args) =>
    (await db.hostNetwork.findMany({ ...args, orderBy: [...HOST_OBJECT_ORDER], select: networkSelect })).map(
      ({ host, ...row }) => ({ ...row, hostName: host.name }),
    ),
  deleteMany: (db, where) => db.hostNetwork.deleteMany({ where }),
  upsert: (db, hostId, network, now) =>
    db.hostNetwork.upsert(
      upsertHostObject(hostId, network, now, {
        engineId: network.id,
        driver: network.driver,
        internal: network.internal,
        subnet: network.subnet,
        gateway: network.gateway,
        seenAt: now,
      }),
    ),
  sql: {
    table: Prisma.sql`host_networks`,
    usedNames: Prisma.sql`
      SELECT n #>> '{}' AS name
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.spec->'networks') = 'array'
                                     THEN c.spec->'networks' ELSE '[]'::jsonb END) n`,
  },
  agent: {
    create: async (gateway, hostId, name, { internal }) =>
      (
        await gateway.request(
          hostId,
          { kind: "network.create", name, internal },
          { timeoutMs: NETWORK_OP_TIMEOUT_MS },
        )
      ).network,
    list: async (gateway, hostId) =>
      (await gateway.request(hostId, { kind: "network.list" }, { timeoutMs: NETWORK_LIST_TIMEOUT_MS }))
        .networks,
    remove: (gateway, hostId, name) =>
      gateway.request(hostId, { kind: "network.remove", name }, { timeoutMs: NETWORK_OP_TIMEOUT_MS }),
  },
  stores: (network) => ZNetworkName.safeParse(network.name).success,
  created: ({ internal }) => ({ adjective: internal ? "internal " : "", data: { internal } }),
};
