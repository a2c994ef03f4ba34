// `fleet network create|ls|rm`: user-defined bridge networks, each on one
// host. Containers on the same network and host reach each other by name; a
// container run with `--network NAME` gets the network made on its host if
// it is missing, so creating one first is only needed for --internal.
import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import type { TNetwork } from "../api-types";
import { EXIT, UsageError } from "../cli-error";
import { type CommandGroup, defineCommand } from "../command";
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

const networkApi: HostObjectApi<TNetwork> = {
  noun: "network",
  list: (client, query) => client.network.list.query(query),
  remove: (client, id) => client.network.remove.mutate({ id }),
};

export function networkRows(networks: readonly TNetwork[]): string[] {
  return renderTable(
    ["HOST", "NAME", "DRIVER", "INTERNAL", "SUBNET", "USED BY"],
    networks.map((network) => [
      network.hostName,
      network.name,
      network.driver,
      String(network.internal),
      network.subnet ?? "-",
      usedByText(network),
    ]),
  );
}

const networkCreate = defineCommand({
  spec: {
    name: "network create",
    summary: "Create a network on a host",
    usage: "[OPTIONS] --host HOST NAME",
    details: ["Prints the network's name."],
    options: {
      host: { type: "string", value: "HOST", description: "The host to create it on (name or id; required)" },
      internal: {
        type: "boolean",
        description: "No route out of the network (containers reach each other only)",
      },
    },
    args: { min: 1, max: 1, what: "the network's name is" },
    examples: [
      "fleet network create backend --host node-1",
      "fleet network create db-only --host node-1 --internal",
    ],
  },
  async run(context, { values, args }) {
    const name = checkedName(args[0]!, ZNetworkName, "network name", "network create");
    if (!values.host)
      throw new UsageError("--host is required: a network lives on one host", "network create");
    const { client } = await context.session();
    const host = await resolveHost(client, values.host);
    const { network } = await client.network.create.mutate({
      hostId: host.id,
      name,
      internal: values.internal === true,
    });
    println(context.io.stdout, network.name);
    return EXIT.ok;
  },
});

const networkLs = defineCommand({
  spec: {
    name: "network ls",
    summary: "List networks",
    usage: "[OPTIONS]",
    details: ["USED BY: the containers that join it."],
    options: {
      host: { type: "string", value: "HOST", description: "Only networks on this host (name or id)" },
      filter: {
        type: "string",
        short: "f",
        multiple: true,
        value: "name=TEXT",
        description: "Only networks whose name contains TEXT",
      },
      json: { type: "boolean", description: "Print the networks as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print network names only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet network ls", "fleet network ls --host node-1 -q"],
  },
  async run(context, { values }) {
    const name = nameFilter(values.filter, "network ls");
    const { client } = await context.session();
    const networks = await listHostObjects(client, networkApi, { host: values.host, name });
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(networks, null, 2));
    else if (values.quiet) for (const network of networks) println(stdout, network.name);
    else for (const line of networkRows(networks)) println(stdout, line);
    return EXIT.ok;
  },
});

const networkRm = defineCommand({
  spec: {
    name: "network rm",
    summary: "Remove networks",
    usage: "[OPTIONS] NETWORK [NETWORK...]",
    details: [
      "Refused (exit 1) while a container that is not removed joins the network: remove it first.",
      "A name that exists on several hosts needs --host.",
    ],
    options: {
      host: { type: "string", value: "HOST", description: "The host the networks are on (name or id)" },
    },
    args: { min: 1, max: null, what: "the network's name is" },
    examples: ["fleet network rm backend", "fleet network rm --host node-2 backend"],
  },
  run: (context, { values, args }) => removeHostObjects(context, networkApi, args, values.host),
});

export const networkGroup: CommandGroup = {
  name: "network",
  summary: "Manage networks on the hosts",
  commands: [networkCreate, networkLs, networkRm],
  aliases: { list: "ls", remove: "rm" },
  examples: [
    "fleet network create backend --host node-1",
    "fleet run -d --network backend --name db postgres:17",
    "fleet network ls",
  ],
};
