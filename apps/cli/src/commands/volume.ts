// `fleet volume create|ls|rm`: named volumes, each on one host. A container
// that mounts one (`fleet run -v NAME:/path`) is placed on that volume's host.
import { ZVolumeName } from "@fleet/shared/domain/container-spec";
import type { TVolume } from "../api-types";
import { bytes } from "../format/format";
import { hostObjectGroup, hostObjectRows, type THostObjectCliKind } from "./host-objects";

const volumeKind: THostObjectCliKind<TVolume> = {
  noun: "volume",
  plural: "volumes",
  summary: "Manage named volumes on the hosts",
  usedVerb: "mounts",
  list: (client, query) => client.volume.list.query(query),
  remove: (client, id) => client.volume.remove.mutate({ id }),
  create: async (client, { hostId, name }) => (await client.volume.create.mutate({ hostId, name })).volume,
  nameSchema: ZVolumeName,
  columns: ["DRIVER", "SIZE"],
  cells: (volume) => [volume.driver, bytes(volume.sizeBytes)],
  createHelp: {
    details: ["Prints the volume's name. Containers that mount it run on that host."],
    examples: ["fleet volume create pgdata --host node-1"],
  },
  lsHelp: {
    details: [
      "SIZE is what the engine last reported (- when it does not say); USED BY the containers mounting it.",
    ],
    examples: ["fleet volume ls", "fleet volume ls --host node-1 --filter name=pg"],
  },
  rmHelp: {
    summary: "Remove volumes and their data",
    examples: ["fleet volume rm pgdata", "fleet volume rm --host node-2 cache scratch"],
  },
  examples: [
    "fleet volume create pgdata --host node-1",
    "fleet run -d -v pgdata:/var/lib/postgresql/data postgres:17",
    "fleet volume ls",
  ],
};

export const volumeRows = (volumes: readonly TVolume[]) => hostObjectRows(volumeKind, volumes);

export const volumeGroup = hostObjectGroup(volumeKind);
