// `fleet volume create|ls|rm`: named volumes, each on one host. A container
// that mounts one (`fleet run -v NAME:/path`) is placed on that volume's host.
import { ZVolumeName } from "@fleet/shared/domain/container-spec";
import type { TVolume } from "../api-types";
import { EXIT, UsageError } from "../cli-error";
import { type CommandGroup, defineCommand } from "../command";
import { bytes } from "../format/format";
import { renderTable } from "../format/table";
import { println } from "../io";
import { resolveHost } from "../resolve";
import {
  checkedName,
  type HostObjectApi,
  listHostObjects,
  nameFilter,
  removeHostObjects,
  usedByText,
} from "./host-objects";

const volumeApi: HostObjectApi<TVolume> = {
  noun: "volume",
  list: (client, query) => client.volume.list.query(query),
  remove: (client, id) => client.volume.remove.mutate({ id }),
};

export function volumeRows(volumes: readonly TVolume[]): string[] {
  return renderTable(
    ["HOST", "NAME", "DRIVER", "SIZE", "USED BY"],
    volumes.map((volume) => [
      volume.hostName,
      volume.name,
      volume.driver,
      bytes(volume.sizeBytes),
      usedByText(volume),
    ]),
  );
}

const volumeCreate = defineCommand({
  spec: {
    name: "volume create",
    summary: "Create a volume on a host",
    usage: "--host HOST NAME",
    details: ["Prints the volume's name. Containers that mount it run on that host."],
    options: {
      host: { type: "string", value: "HOST", description: "The host to create it on (name or id; required)" },
    },
    args: { min: 1, max: 1, what: "the volume's name is" },
    examples: ["fleet volume create pgdata --host node-1"],
  },
  async run(context, { values, args }) {
    const name = checkedName(args[0]!, ZVolumeName, "volume name", "volume create");
    if (!values.host) throw new UsageError("--host is required: a volume lives on one host", "volume create");
    const { client } = await context.session();
    const host = await resolveHost(client, values.host);
    const { volume } = await client.volume.create.mutate({ hostId: host.id, name });
    println(context.io.stdout, volume.name);
    return EXIT.ok;
  },
});

const volumeLs = defineCommand({
  spec: {
    name: "volume ls",
    summary: "List volumes",
    usage: "[OPTIONS]",
    details: [
      "SIZE is what the engine last reported (- when it does not say); USED BY the containers mounting it.",
    ],
    options: {
      host: { type: "string", value: "HOST", description: "Only volumes on this host (name or id)" },
      filter: {
        type: "string",
        short: "f",
        multiple: true,
        value: "name=TEXT",
        description: "Only volumes whose name contains TEXT",
      },
      json: { type: "boolean", description: "Print the volumes as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print volume names only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet volume ls", "fleet volume ls --host node-1 --filter name=pg"],
  },
  async run(context, { values }) {
    const name = nameFilter(values.filter, "volume ls");
    const { client } = await context.session();
    const volumes = await listHostObjects(client, volumeApi, { host: values.host, name });
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(volumes, null, 2));
    else if (values.quiet) for (const volume of volumes) println(stdout, volume.name);
    else for (const line of volumeRows(volumes)) println(stdout, line);
    return EXIT.ok;
  },
});

const volumeRm = defineCommand({
  spec: {
    name: "volume rm",
    summary: "Remove volumes and their data",
    usage: "[OPTIONS] VOLUME [VOLUME...]",
    details: [
      "Refused (exit 1) while a container that is not removed mounts the volume: remove it first.",
      "A name that exists on several hosts needs --host.",
    ],
    options: {
      host: { type: "string", value: "HOST", description: "The host the volumes are on (name or id)" },
    },
    args: { min: 1, max: null, what: "the volume's name is" },
    examples: ["fleet volume rm pgdata", "fleet volume rm --host node-2 cache scratch"],
  },
  run: (context, { values, args }) => removeHostObjects(context, volumeApi, args, values.host),
});

export const volumeGroup: CommandGroup = {
  name: "volume",
  summary: "Manage named volumes on the hosts",
  commands: [volumeCreate, volumeLs, volumeRm],
  aliases: { list: "ls", remove: "rm" },
  examples: [
    "fleet volume create pgdata --host node-1",
    "fleet run -d -v pgdata:/var/lib/postgresql/data postgres:17",
    "fleet volume ls",
  ],
};
