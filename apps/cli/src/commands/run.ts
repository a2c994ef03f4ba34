// `fleet run`: one container (container.run) or, with --replicas N > 1, a
// deployment (deployment.create). Prints the id, then where the scheduler
// placed it and why; without -d waits until it runs (or fails) with a
// progress line on stderr. Flags are checked here with the same shared
// parsers the central uses, so a typo is a usage error (exit 2) before
// anything is sent.
import {
  parseMount,
  parsePortMapping,
  parseRestartPolicy,
  parseTmpfs,
  ZNetworkName,
} from "@fleet/shared/domain/container-spec";
import { parseLabel, parseLabelSelector } from "@fleet/shared/label-selector";
import type { TContainer, TDeploymentDetail } from "../api-types";
import { integerFlag, keyValues, parsedFlag } from "../args";
import { CliError, EXIT, UsageError } from "../cli-error";
import type { FleetClient } from "../client";
import { defineCommand } from "../command";
import { shortId } from "../format/format";
import { StatusLine } from "../format/progress";
import { HEALTH_OPTIONS, healthCheckOf } from "../health-flags";
import { type CliIo, println } from "../io";
import { LIMIT_OPTIONS, limitsOf } from "../limit-flags";
import { sleep } from "../sleep";
import { checkedName } from "./host-objects";

const POLL_MS = 500;
// As the central allows (deployment.create and scale).
const MAX_REPLICAS = 5000;

export const runCommand = defineCommand({
  spec: {
    name: "run",
    summary: "Run a container (or N replicas) where the scheduler places it",
    usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
    details: [
      "Flags go before IMAGE; everything after IMAGE is the container's command.",
      "Prints the container's id (the deployment's with --replicas > 1) on stdout and",
      "where it was placed and why on stderr, then waits until it runs unless -d is given.",
      "Exits 1 if it fails to start.",
      "A health check is one of --health-cmd, --health-http or --health-tcp; durations are",
      "written 500ms, 5s, 1m30s. `fleet ps` shows its verdict in STATUS.",
    ],
    options: {
      detach: { type: "boolean", short: "d", description: "Print the id and return without waiting" },
      name: { type: "string", value: "NAME", description: "Name the container (required with --replicas)" },
      ...LIMIT_OPTIONS,
      env: {
        type: "string",
        short: "e",
        multiple: true,
        value: "KEY=VALUE",
        description: "Set an environment variable (KEY alone: from this shell)",
      },
      publish: {
        type: "string",
        short: "p",
        multiple: true,
        value: "[IP:]HOST:CONTAINER[/udp]",
        description: "Publish a port",
      },
      volume: {
        type: "string",
        short: "v",
        multiple: true,
        value: "SOURCE:/PATH[:ro]",
        description: "Mount a named volume (made on the host if missing) or an allowed host path",
      },
      tmpfs: {
        type: "string",
        multiple: true,
        value: "/PATH[:size=64m]",
        description: "Mount a tmpfs (64 MiB unless size= says; counts against memory)",
      },
      network: {
        type: "string",
        aliases: ["net"],
        multiple: true,
        value: "NETWORK",
        description: "Join a user-defined network (made on the host if missing)",
      },
      restart: { type: "string", value: "POLICY", description: "no, always, on-failure or on-failure:N" },
      ...HEALTH_OPTIONS,
      label: { type: "string", short: "l", multiple: true, value: "KEY=VALUE", description: "Set a label" },
      replicas: { type: "string", value: "N", description: "Run N replicas as a deployment named --name" },
      strategy: {
        type: "string",
        value: "binpack|spread",
        description: "Placement: fill hosts (binpack, default) or spread out",
      },
      constraint: {
        type: "string",
        multiple: true,
        value: "SELECTOR",
        description: "Host labels to require (zone=a, disk!=hdd, gpu)",
      },
      json: { type: "boolean", description: "Print the API's answer as JSON instead of the id" },
    },
    args: { min: 1, max: null, what: "the image is" },
    stopAtFirstArg: true,
    examples: [
      "fleet run -d -m 64m --cpus 0.5 -p 8080:80 --name web nginx:1.27",
      "fleet run --replicas 3 --strategy spread --name api -e MODE=prod registry.local/api:2",
      "fleet run --restart on-failure:3 busybox sh -c 'echo hello; sleep 60'",
      "fleet run -d -v pgdata:/var/lib/postgresql/data --tmpfs /tmp --network backend --name db postgres:17",
      "fleet run -d --health-http 80/healthz --health-interval 5s --restart-on-unhealthy --name web nginx:1.27",
      "fleet run -d --health-cmd 'pg_isready -q' --health-retries 5 --health-start-period 30s --name db postgres:17",
    ],
  },
  async run(context, { values, args }) {
    const { io } = context;
    const [image, ...command] = args as [string, ...string[]];
    const fail = (message: string) => new UsageError(message, "run");

    const limits = limitsOf(values, "run");
    const replicas = integerFlag(values.replicas, "--replicas", "run", { min: 1, max: MAX_REPLICAS }) ?? 1;
    parsedFlag(values.restart, "--restart", "run", parseRestartPolicy);
    const healthCheck = healthCheckOf(values, "run");
    for (const port of values.publish ?? []) parsedFlag(port, "--publish", "run", parsePortMapping);
    for (const mount of values.volume ?? []) parsedFlag(mount, "--volume", "run", parseMount);
    for (const mount of values.tmpfs ?? []) parsedFlag(mount, "--tmpfs", "run", parseTmpfs);
    for (const network of values.network ?? []) checkedName(network, ZNetworkName, "--network", "run");
    const labels = keyValues(values.label, "--label", "run", parseLabel);
    for (const selector of values.constraint ?? []) {
      parsedFlag(selector, "--constraint", "run", parseLabelSelector);
    }
    const strategy = values.strategy;
    if (strategy !== undefined && strategy !== "binpack" && strategy !== "spread") {
      throw fail(`--strategy must be binpack or spread, got ${strategy}`);
    }
    const strategyName = strategy as "binpack" | "spread" | undefined;
    if (replicas > 1 && !values.name)
      throw fail("--replicas needs --name (replicas are named NAME-1, NAME-2, …)");
    const env: string[] = [];
    for (const line of values.env ?? []) {
      if (line.startsWith("=")) throw fail(`--env ${line}: the variable needs a name`);
      if (line.includes("=")) env.push(line);
      else if (io.env[line] !== undefined) env.push(`${line}=${io.env[line]}`);
      // As docker: `-e NAME` for a variable this shell does not have passes nothing.
    }

    const spec = {
      image,
      ...(command.length > 0 ? { command } : {}),
      ...(env.length > 0 ? { env } : {}),
      ...(values.publish ? { ports: values.publish } : {}),
      ...(values.volume ? { volumes: values.volume } : {}),
      ...(values.tmpfs ? { tmpfs: values.tmpfs } : {}),
      ...(values.network ? { networks: values.network } : {}),
      ...limits,
      ...(values.restart !== undefined ? { restart: values.restart } : {}),
      ...(healthCheck ? { healthCheck } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(strategyName ? { strategy: strategyName } : {}),
      ...(values.constraint ? { constraints: values.constraint.join(",") } : {}),
    };
    const { client } = await context.session();

    if (replicas > 1) {
      const created = await client.deployment.create.mutate({ name: values.name!, replicas, ...spec });
      if (values.json) println(io.stdout, JSON.stringify(created, null, 2));
      else println(io.stdout, created.deployment.id);
      for (const replica of created.replicas) {
        println(io.stderr, `${replica.name}: ${placementText(replica)}`);
      }
      if (values.detach) return EXIT.ok;
      return waitForDeployment(client, io, created);
    }

    const { container, placement } = await client.container.run.mutate({
      ...(values.name ? { name: values.name } : {}),
      ...spec,
    });
    if (values.json) println(io.stdout, JSON.stringify({ container, placement }, null, 2));
    else println(io.stdout, container.id);
    println(io.stderr, `${container.name}: placed on ${placement.hostName}: ${placement.reason}`);
    if (values.detach) return EXIT.ok;
    return waitForContainer(client, io, container);
  },
});

function placementText(container: TContainer): string {
  return container.hostName
    ? `placed on ${container.hostName}: ${container.placementReason}`
    : `waiting for a host: ${container.placementReason}`;
}

type TWaitVerdict = { done: false; text: string } | { done: true; ok: boolean; text: string };

/** Where a container stands for someone waiting for it to run. */
export function containerVerdict(container: TContainer): TWaitVerdict {
  const where = container.hostName ? ` on ${container.hostName}` : "";
  const why = container.statusMessage ? `: ${container.statusMessage}` : "";
  switch (container.actualState) {
    case "running":
      return { done: true, ok: true, text: `${container.name} is running${where}` };
    case "exited":
      return container.exitCode === 0 && !container.oomKilled
        ? { done: true, ok: true, text: `${container.name} ran and exited (0)${where}` }
        : {
            done: true,
            ok: false,
            text: `${container.name} exited with code ${container.exitCode ?? "?"}${container.oomKilled ? " (OOM killed)" : ""}${where}${why}`,
          };
    case "failed":
      return { done: true, ok: false, text: `${container.name} failed to start${where}${why}` };
    case "crashloop":
      return { done: true, ok: false, text: `${container.name} keeps crashing${where}${why}` };
    case "stopped":
    case "removed":
      return { done: true, ok: false, text: `${container.name} was ${container.actualState} before it ran` };
    default:
      return { done: false, text: `${container.name}${where}: ${container.actualState}…` };
  }
}

async function waitForContainer(client: FleetClient, io: CliIo, first: TContainer): Promise<number> {
  const status = new StatusLine(io.stderr);
  let container = first;
  for (;;) {
    const verdict = containerVerdict(container);
    if (verdict.done) {
      status.finish(verdict.ok ? verdict.text : undefined);
      if (!verdict.ok) throw new CliError(verdict.text, EXIT.failure);
      return EXIT.ok;
    }
    status.update(verdict.text);
    await sleep(POLL_MS, io.signal);
    if (io.signal.aborted) {
      status.finish(
        `stopped waiting: ${shortId(container.id)} (${container.name}) keeps starting on its own`,
      );
      return EXIT.interrupted;
    }
    container = (await client.container.get.query({ id: container.id })).container;
  }
}

async function waitForDeployment(client: FleetClient, io: CliIo, first: TDeploymentDetail): Promise<number> {
  const status = new StatusLine(io.stderr);
  let detail = first;
  for (;;) {
    const verdicts = detail.replicas.map(containerVerdict);
    const failed = verdicts.find((verdict) => verdict.done && !verdict.ok);
    if (failed) {
      status.finish();
      throw new CliError(failed.text, EXIT.failure);
    }
    const ready = verdicts.filter((verdict) => verdict.done).length;
    const total = detail.deployment.replicas;
    const summary = `${detail.deployment.name}: ${ready}/${total} replicas running`;
    if (ready >= total && detail.replicas.length >= total) {
      status.finish(summary);
      return EXIT.ok;
    }
    status.update(summary);
    await sleep(POLL_MS, io.signal);
    if (io.signal.aborted) {
      status.finish(`stopped waiting: ${summary}; the rest keep starting on their own`);
      return EXIT.interrupted;
    }
    detail = await client.deployment.get.query({ id: detail.deployment.id });
  }
}
