// `fleet network create|ls|rm`: user-defined bridge networks, each on one
// host. Containers on the same network and host reach each other by name; a
// container run with `--network NAME` gets the network made on its host if
// it is missing, so creating one first is only needed for --internal.
import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import type { TNetwork } from "../api-types";
import { hostObjectGroup, hostObjectRows, type THostObjectCliKind } from "./host-objects";

const networkKind: THostObjectCliKind<TNetwork> = {
  noun: "network",
  plural: "networks",
  summary: "Manage networks on the hosts",
  usedVerb: "joins",
  list: (client, query) => client.network.list.query(query),
  remove: (client, id) => client.network.remove.mutate({ id }),
  create: async (client, { hostId, name, values }) =>
    (await client.network.create.mutate({ hostId, name, internal: values.internal === true })).network,
  nameSchema: ZNetworkName,
  columns: ["DRIVER", "INTERNAL", "SUBNET"],
  cells: (network) => [network.driver, String(network.internal), network.subnet ?? "-"],
  createHelp: {
    details: ["Prints the network's name."],
    options: {
      internal: {
        type: "boolean",
        description: "No route out of the network (containers reach each other only)",
      },
    },
    examples: [
      "fleet network create backend --host node-1",
      "fleet network create db-only --host node-1 --internal",
    ],
  },
  lsHelp: {
    details: ["USED BY: the containers that join it."],
    examples: ["fleet network ls", "fleet network ls --host node-1 -q"],
  },
  rmHelp: {
    summary: "Remove networks",
    examples: ["fleet network rm backend", "fleet network rm --host node-2 backend"],
  },
  examples: [
    "fleet network create backend --host node-1",
    "fleet run -d --network backend --name db postgres:17",
    "fleet network ls",
  ],
};

export const networkRows = (networks: readonly TNetwork[]) => hostObjectRows(networkKind, networks);

export const networkGroup = hostObjectGroup(networkKind);
