// `fleet hosts`: the fleet's hosts, what they may hand out and what is taken.
import type { THost } from "../api-types";
import { EXIT } from "../cli-error";
import { defineCommand } from "../command";
import { ago, bytes, cores, labelList, shortId } from "../format/format";
import { renderTable } from "../format/table";
import { println } from "../io";
import { listAllHosts } from "../resolve";

export function hostRows(hosts: readonly THost[], now: number): string[] {
  return renderTable(
    ["HOST ID", "NAME", "STATUS", "ENGINE", "CPUS", "MEMORY", "CONTAINERS", "LAST SEEN", "LABELS"],
    hosts.map((host) => [
      shortId(host.id),
      host.name,
      `${host.status}${host.draining ? " (draining)" : ""}`,
      host.facts ? `${host.facts.engine.name} ${host.facts.engine.version}` : "-",
      `${cores(host.allocated.cpuMillis)}/${cores(host.allocatable.cpuMillis)}`,
      `${bytes(host.allocated.memoryBytes)}/${bytes(host.allocatable.memoryBytes)}`,
      String(host.containerCount),
      host.status === "online" ? "now" : ago(host.lastSeenAt, now),
      labelList(host.labels),
    ]),
  );
}

export const hostsCommand = defineCommand({
  spec: {
    name: "hosts",
    summary: "List the hosts of the fleet",
    usage: "[OPTIONS]",
    details: ["CPUS and MEMORY show what is allocated to containers out of what the host may hand out."],
    options: {
      json: { type: "boolean", description: "Print the hosts as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print host ids only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet hosts", "fleet hosts --json | jq '.[].name'"],
  },
  async run(context, { values }) {
    const { client } = await context.session();
    const hosts = await listAllHosts(client);
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(hosts, null, 2));
    else if (values.quiet) for (const host of hosts) println(stdout, host.id);
    else for (const line of hostRows(hosts, context.io.now())) println(stdout, line);
    return EXIT.ok;
  },
});
