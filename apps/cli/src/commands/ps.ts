// `fleet ps`: containers, newest first, across every page. Without -a only
// those running or on their way to it, as `docker ps` shows.
import type { TContainer } from "../api-types";
import { integerFlag } from "../args";
import { EXIT } from "../cli-error";
import { defineCommand } from "../command";
import { ago, commandText, containerStatus, portList, shortId } from "../format/format";
import { renderTable } from "../format/table";
import { println } from "../io";
import { collectPages, PAGE_SIZE, resolveHost } from "../resolve";

/** The states `ps` shows without -a: running, or about to. */
export const LIVE_STATES = ["pending", "pulling", "creating", "running", "restarting", "crashloop"] as const;

export function containerRows(containers: readonly TContainer[], now: number): string[] {
  return renderTable(
    ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "HOST", "NAMES"],
    containers.map((container) => [
      shortId(container.id),
      container.image,
      commandText(container.command),
      ago(container.createdAt, now),
      containerStatus(container, now),
      portList(container.ports),
      container.hostName ?? "-",
      container.name,
    ]),
  );
}

export const psCommand = defineCommand({
  spec: {
    name: "ps",
    summary: "List containers",
    usage: "[OPTIONS]",
    options: {
      all: { type: "boolean", short: "a", description: "Show all containers (default: running or starting)" },
      host: { type: "string", value: "HOST", description: "Only containers on this host (name or id)" },
      limit: { type: "string", short: "n", value: "N", description: "Show at most N containers" },
      json: { type: "boolean", description: "Print the containers as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print container ids only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet ps", "fleet ps -a --host node-2", "fleet ps -q | xargs fleet stop"],
  },
  async run(context, { values }) {
    const limit = integerFlag(values.limit, "--limit", "ps", { min: 1, max: 1_000_000 });
    const { client } = await context.session();
    const hostId = values.host ? (await resolveHost(client, values.host)).id : undefined;
    const containers = await collectPages(
      (cursor) =>
        client.container.list.query({
          ...(hostId ? { hostId } : {}),
          ...(values.all ? {} : { state: [...LIVE_STATES] }),
          cursor,
          limit: Math.min(PAGE_SIZE, limit ?? PAGE_SIZE),
        }),
      limit,
    );
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(containers, null, 2));
    else if (values.quiet) for (const container of containers) println(stdout, container.id);
    else for (const line of containerRows(containers, context.io.now())) println(stdout, line);
    return EXIT.ok;
  },
});
