// `fleet ps`: containers, newest first, across every page. Without -a only
// those running or on their way to it, as `docker ps` shows.
import type { TContainer } from "../api-types";
import { integerFlag } from "../args";
import { EXIT, UsageError } from "../cli-error";
import { defineCommand } from "../command";
import { ago, commandText, containerStatus, portList, shortDigest, shortId } from "../format/format";
import { renderTable } from "../format/table";
import { println } from "../io";
import { collectPages, PAGE_SIZE, resolveHost } from "../resolve";

/** The states `ps` shows without -a: running, or about to. */
export const LIVE_STATES = ["pending", "pulling", "creating", "running", "restarting", "crashloop"] as const;

/**
 * PORTS: where a running container can be reached (`10.0.0.5:8080->80/tcp`,
 * as its host reported the ports bound); otherwise the ports it asks for.
 */
export function portsText(container: TContainer): string {
  if (container.actualState === "running" && container.published.length > 0) {
    const shown = container.published.map(
      (port) => `${port.address}->${port.containerPort}/${port.protocol}`,
    );
    // An engine binds IPv4 and IPv6 alike; both read the same once turned into an address.
    return [...new Set(shown)].join(", ");
  }
  return portList(container.ports);
}

const HEALTH_VERDICTS = ["starting", "healthy", "unhealthy"] as const;
type THealthVerdict = (typeof HEALTH_VERDICTS)[number];

/** `--filter health=unhealthy` (docker's spelling; several are any of them) → the verdicts to keep. */
export function healthFilterOf(filters: readonly string[] | undefined): THealthVerdict[] | undefined {
  if (!filters || filters.length === 0) return undefined;
  const verdicts = new Set<THealthVerdict>();
  for (const filter of filters) {
    const [key, value = ""] = filter.split("=", 2) as [string, string?];
    if (key.trim() !== "health") {
      throw new UsageError(`--filter ${filter}: only health=STATE is supported`, "ps");
    }
    const verdict = HEALTH_VERDICTS.find((known) => known === value.trim());
    if (!verdict) {
      throw new UsageError(
        `--filter ${filter}: health must be ${HEALTH_VERDICTS.join(", ")} (containers without a check have none)`,
        "ps",
      );
    }
    verdicts.add(verdict);
  }
  return [...verdicts];
}

export function containerRows(
  containers: readonly TContainer[],
  now: number,
  options: { noTrunc?: boolean } = {},
): string[] {
  const full = options.noTrunc === true;
  return renderTable(
    ["CONTAINER ID", "IMAGE", "DIGEST", "COMMAND", "CREATED", "STATUS", "PORTS", "HOST", "NAMES"],
    containers.map((container) => [
      full ? container.id : shortId(container.id),
      container.image,
      (full ? container.imageDigest : container.imageDigest && shortDigest(container.imageDigest)) ?? "-",
      commandText(container.command, full ? Number.POSITIVE_INFINITY : undefined),
      ago(container.createdAt, now),
      containerStatus(container, now),
      portsText(container),
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
      filter: {
        type: "string",
        short: "f",
        multiple: true,
        value: "health=STATE",
        description: "Only containers whose health check says STATE (starting, healthy, unhealthy)",
      },
      "no-trunc": { type: "boolean", description: "Show full ids, digests and commands" },
      json: { type: "boolean", description: "Print the containers as a JSON array (the API's objects)" },
      quiet: { type: "boolean", short: "q", description: "Print container ids only" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: [
      "fleet ps",
      "fleet ps -a --host node-2",
      "fleet ps -q | xargs fleet stop",
      "fleet ps --filter health=unhealthy",
    ],
  },
  async run(context, { values }) {
    const limit = integerFlag(values.limit, "--limit", "ps", { min: 1, max: 1_000_000 });
    const health = healthFilterOf(values.filter);
    const { client } = await context.session();
    const hostId = values.host ? (await resolveHost(client, values.host)).id : undefined;
    const containers = await collectPages(
      (cursor) =>
        client.container.list.query({
          ...(hostId ? { hostId } : {}),
          ...(values.all ? {} : { state: [...LIVE_STATES] }),
          ...(health ? { health } : {}),
          cursor,
          limit: Math.min(PAGE_SIZE, limit ?? PAGE_SIZE),
        }),
      limit,
    );
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(containers, null, 2));
    else if (values.quiet) for (const container of containers) println(stdout, container.id);
    else {
      const lines = containerRows(containers, context.io.now(), { noTrunc: values["no-trunc"] === true });
      for (const line of lines) println(stdout, line);
    }
    return EXIT.ok;
  },
});
