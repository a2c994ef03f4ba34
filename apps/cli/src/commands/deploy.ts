// `fleet deploy ls|inspect|update|scale|rollback|history|pause|resume|promote`:
// deployments in docker's (`docker service`) and kubectl's (`kubectl rollout`)
// idiom. A change is a new revision that the central rolls out by the
// deployment's update policy; `update` and `rollback` then follow the rollout
// as `fleet rollout status -w` does (exit 1 when it fails) unless -d is given.
import {
  parseMount,
  parsePortMapping,
  parseRestartPolicy,
  parseTmpfs,
  ZNetworkName,
} from "@fleet/shared/domain/container-spec";
import { parseLabelSelector } from "@fleet/shared/label-selector";
import { parseDuration } from "@fleet/shared/units";
import type { TDeployment } from "../api-types";
import { integerFlag, type OptionValues, parsedFlag } from "../args";
import { EXIT, UsageError } from "../cli-error";
import type { FleetClient } from "../client";
import { type CommandContext, type CommandGroup, defineCommand } from "../command";
import { ago, shortId } from "../format/format";
import { renderTable } from "../format/table";
import { HEALTH_OPTIONS, healthCheckOf } from "../health-flags";
import { println } from "../io";
import { LIMIT_OPTIONS, limitsOf } from "../limit-flags";
import { checkedName } from "./host-objects";
import { followRollout, resolveDeployment } from "./rollout";

// As the central allows (deployment.create and scale).
const MAX_REPLICAS = 5000;

// ---- ls ---------------------------------------------------------------------

/** `docker service ls` with the rollout beside it. */
export function deploymentRows(items: readonly TDeployment[]): string[] {
  return renderTable(
    ["ID", "NAME", "REVISION", "REPLICAS", "UP-TO-DATE", "ROLLOUT", "IMAGE"],
    items.map((item) => [
      shortId(item.id),
      item.name,
      String(item.revision),
      `${item.healthyReplicas}/${item.replicas}`,
      String(item.updatedReplicas),
      item.rollout
        ? `${item.rollout.state} (${item.rollout.fromRevision ?? "-"}→${item.rollout.toRevision})`
        : "-",
      item.image.replace(/@sha256:[0-9a-f]{64}$/, ""),
    ]),
  );
}

const deployLs = defineCommand({
  spec: {
    name: "deploy ls",
    summary: "List deployments",
    usage: "[OPTIONS]",
    details: ["REPLICAS is healthy/desired; UP-TO-DATE counts replicas on the newest revision."],
    options: {
      all: { type: "boolean", short: "a", description: "Include removed deployments" },
      quiet: { type: "boolean", short: "q", description: "Only print ids" },
      json: { type: "boolean", description: "Print the API's answer as JSON" },
    },
    args: { min: 0, max: 0, what: "no arguments are" },
    examples: ["fleet deploy ls", "fleet deploy ls -q"],
  },
  async run(context, { values }) {
    const { client } = await context.session();
    const { items } = await client.deployment.list.query({ includeRemoved: values.all === true });
    const { stdout } = context.io;
    if (values.json) println(stdout, JSON.stringify(items, null, 2));
    else if (values.quiet) for (const item of items) println(stdout, item.id);
    else for (const line of deploymentRows(items)) println(stdout, line);
    return EXIT.ok;
  },
});

// ---- inspect ----------------------------------------------------------------

const deployInspect = defineCommand({
  spec: {
    name: "deploy inspect",
    summary: "Show a deployment, its replicas and its newest rollout as JSON",
    usage: "DEPLOYMENT",
    options: {},
    args: { min: 1, max: 1, what: "one deployment (name or id) is" },
    examples: ["fleet deploy inspect api"],
  },
  async run(context, { args }) {
    const { client } = await context.session();
    const deployment = await resolveDeployment(client, args[0]!);
    const [detail, rollout] = await Promise.all([
      client.deployment.get.query({ id: deployment.id }),
      client.deployment.rollout.query({ id: deployment.id }),
    ]);
    println(context.io.stdout, JSON.stringify({ ...detail, rollout }, null, 2));
    return EXIT.ok;
  },
});

// ---- update -----------------------------------------------------------------

export const UPDATE_OPTIONS = {
  image: { type: "string", value: "IMAGE", description: "Run this image (its tag is pinned to a digest)" },
  command: {
    type: "string",
    value: "COMMAND",
    description: "The command, split on spaces ('' for the image's)",
  },
  "env-add": {
    type: "string",
    aliases: ["env"],
    short: "e",
    multiple: true,
    value: "KEY=VALUE",
    description: "Set an environment variable (KEY alone: from this shell)",
  },
  "env-rm": { type: "string", multiple: true, value: "KEY", description: "Remove an environment variable" },
  ...LIMIT_OPTIONS,
  publish: {
    type: "string",
    short: "p",
    multiple: true,
    value: "[IP:]HOST:CONTAINER[/udp]",
    description: "The ports to publish (replaces the current list)",
  },
  volume: {
    type: "string",
    short: "v",
    multiple: true,
    value: "SOURCE:/PATH[:ro]",
    description: "The volumes and bind mounts (replaces the current ones)",
  },
  tmpfs: {
    type: "string",
    multiple: true,
    value: "/PATH[:size=64m]",
    description: "The tmpfs mounts (replaces)",
  },
  network: {
    type: "string",
    aliases: ["net"],
    multiple: true,
    value: "NETWORK",
    description: "The networks to join (replaces)",
  },
  restart: { type: "string", value: "POLICY", description: "no, always, on-failure or on-failure:N" },
  ...HEALTH_OPTIONS,
  "no-healthcheck": { type: "boolean", description: "Remove the health check" },
  strategy: { type: "string", value: "binpack|spread", description: "Placement strategy" },
  constraint: {
    type: "string",
    multiple: true,
    value: "SELECTOR",
    description: "Host labels to require (replaces)",
  },
  "max-parallel": { type: "string", value: "N", description: "Update policy: replicas replaced at a time" },
  "min-healthy-time": {
    type: "string",
    value: "DURATION",
    description: "Update policy: how long a new replica must stay healthy (or running) to count",
  },
  "healthy-deadline": {
    type: "string",
    value: "DURATION",
    description: "Update policy: a new replica not counted by then fails the rollout",
  },
  "progress-deadline": {
    type: "string",
    value: "DURATION",
    description: "Update policy: a rollout where nothing counted for this long fails",
  },
  "auto-revert": {
    type: "boolean",
    description: "Update policy: on failure, go back to the last good revision",
  },
  "no-auto-revert": { type: "boolean", description: "Update policy: on failure, stop and say why" },
  canary: {
    type: "string",
    value: "N",
    description: "Update policy: N new replicas first, then wait for promote",
  },
  order: { type: "string", value: "stop-first|start-first", description: "Update policy: replacement order" },
  "dry-run": { type: "boolean", description: "Only print what would change" },
  detach: {
    type: "boolean",
    short: "d",
    description: "Return once the revision is made, without following it",
  },
  json: { type: "boolean", description: "Print the API's answer as JSON" },
} as const;

type TUpdateValues = OptionValues<typeof UPDATE_OPTIONS>;

/** The flags as deployment.update's input (without the id); usage errors name the flag. */
export function updateInputOf(
  values: TUpdateValues,
  env: Record<string, string | undefined>,
  command: string,
) {
  const fail = (message: string) => new UsageError(message, command);
  const limits = limitsOf(values, command);
  parsedFlag(values.restart, "--restart", command, parseRestartPolicy);
  for (const port of values.publish ?? []) parsedFlag(port, "--publish", command, parsePortMapping);
  for (const mount of values.volume ?? []) parsedFlag(mount, "--volume", command, parseMount);
  for (const mount of values.tmpfs ?? []) parsedFlag(mount, "--tmpfs", command, parseTmpfs);
  for (const network of values.network ?? []) checkedName(network, ZNetworkName, "--network", command);
  for (const selector of values.constraint ?? [])
    parsedFlag(selector, "--constraint", command, parseLabelSelector);
  const healthCheck = healthCheckOf(values, command);
  if (healthCheck && values["no-healthcheck"])
    throw fail("--no-healthcheck and a --health-* check exclude each other");
  if (values.strategy !== undefined && values.strategy !== "binpack" && values.strategy !== "spread") {
    throw fail(`--strategy must be binpack or spread, got ${values.strategy}`);
  }
  if (values.order !== undefined && values.order !== "stop-first" && values.order !== "start-first") {
    throw fail(`--order must be stop-first or start-first, got ${values.order}`);
  }
  if (values["auto-revert"] && values["no-auto-revert"])
    throw fail("--auto-revert and --no-auto-revert exclude each other");
  const duration = (value: string | undefined, flag: string) =>
    parsedFlag(value, flag, command, parseDuration);
  const envAdd: Record<string, string> = {};
  for (const line of values["env-add"] ?? []) {
    const equals = line.indexOf("=");
    if (equals === 0) throw fail(`--env-add ${line}: the variable needs a name`);
    if (equals > 0) envAdd[line.slice(0, equals)] = line.slice(equals + 1);
    else if (env[line] !== undefined) envAdd[line] = env[line]!;
  }
  const policy = {
    ...(values["max-parallel"] !== undefined
      ? { maxParallel: integerFlag(values["max-parallel"], "--max-parallel", command, { min: 1, max: 100 }) }
      : {}),
    ...(values["min-healthy-time"] !== undefined
      ? { minHealthyTimeMs: duration(values["min-healthy-time"], "--min-healthy-time") }
      : {}),
    ...(values["healthy-deadline"] !== undefined
      ? { healthyDeadlineMs: duration(values["healthy-deadline"], "--healthy-deadline") }
      : {}),
    ...(values["progress-deadline"] !== undefined
      ? { progressDeadlineMs: duration(values["progress-deadline"], "--progress-deadline") }
      : {}),
    ...(values["auto-revert"] ? { autoRevert: true } : values["no-auto-revert"] ? { autoRevert: false } : {}),
    ...(values.canary !== undefined
      ? { canary: integerFlag(values.canary, "--canary", command, { min: 0, max: MAX_REPLICAS }) }
      : {}),
    ...(values.order !== undefined ? { order: values.order as "stop-first" | "start-first" } : {}),
  };
  const input = {
    ...(values.image !== undefined ? { image: values.image } : {}),
    ...(values.command !== undefined ? { command: values.command } : {}),
    ...(Object.keys(envAdd).length > 0 ? { envAdd } : {}),
    ...(values["env-rm"] ? { envRemove: values["env-rm"] } : {}),
    ...limits,
    ...(values.publish ? { ports: values.publish } : {}),
    ...(values.volume ? { volumes: values.volume } : {}),
    ...(values.tmpfs ? { tmpfs: values.tmpfs } : {}),
    ...(values.network ? { networks: values.network } : {}),
    ...(values.restart !== undefined ? { restart: values.restart } : {}),
    ...(healthCheck ? { healthCheck } : values["no-healthcheck"] ? { healthCheck: null } : {}),
    ...(values.strategy !== undefined ? { strategy: values.strategy as "binpack" | "spread" } : {}),
    ...(values.constraint ? { constraints: values.constraint.join(",") } : {}),
    ...(Object.keys(policy).length > 0 ? { policy } : {}),
    ...(values["dry-run"] ? { dryRun: true } : {}),
  };
  if (Object.keys(input).length === 0)
    throw fail("nothing to change: give a flag such as --image or --env-add");
  return input;
}

/** What a change made, for stderr: `api: revision 3 (image app:1 → app:2); rolling out`. */
export function changeSummary(
  name: string,
  change: { revision: number | null; diff: string; dryRun: boolean },
): string {
  if (change.dryRun)
    return change.diff ? `${name}: would make a new revision: ${change.diff}` : `${name}: no change`;
  if (change.revision === null) return `${name}: the spec is unchanged; no new revision`;
  return `${name}: revision ${change.revision}${change.diff ? ` (${change.diff})` : ""}`;
}

export async function runUpdate(
  context: CommandContext,
  values: TUpdateValues,
  ref: string,
  command: string,
): Promise<number> {
  const { io } = context;
  const input = updateInputOf(values, io.env, command);
  const { client } = await context.session();
  const deployment = await resolveDeployment(client, ref);
  const result = await client.deployment.update.mutate({ id: deployment.id, ...input });
  if (values.json) println(io.stdout, JSON.stringify(result, null, 2));
  else println(io.stdout, result.deployment.name);
  println(io.stderr, changeSummary(result.deployment.name, result.change));
  if (values.detach || result.change.dryRun || result.change.revision === null) return EXIT.ok;
  return followRollout(client, io, deployment.id, true);
}

const deployUpdate = defineCommand({
  spec: {
    name: "deploy update",
    summary: "Change a deployment's spec or update policy; the change rolls out as a new revision",
    usage: "[OPTIONS] DEPLOYMENT",
    details: [
      "Only what a flag names changes. A spec change is a new revision, rolled out by the update",
      "policy (replicas replaced --max-parallel at a time, each counting once healthy, or running",
      "without a health check, for --min-healthy-time). Follows the rollout until it ends unless -d;",
      "exits 1 if it fails. Policy flags alone change the policy for the next rollout.",
    ],
    options: UPDATE_OPTIONS,
    args: { min: 1, max: 1, what: "one deployment (name or id) is" },
    examples: [
      "fleet deploy update --image registry.local/api:2.2 api",
      "fleet deploy update -e MODE=fast --env-rm DEBUG --max-parallel 2 --order start-first api",
      "fleet deploy update --health-http 8080/healthz --auto-revert api",
      "fleet deploy update --image registry.local/api:3 --canary 1 -d api",
      "fleet deploy update --cpus 1 --dry-run api",
    ],
  },
  async run(context, { values, args }) {
    return runUpdate(context, values, args[0]!, "deploy update");
  },
});

// ---- scale ------------------------------------------------------------------

/** `api=5` (docker service scale) or `api 5`. */
export function scaleTargetOf(args: readonly string[], command: string): { ref: string; replicas: number } {
  const [first = "", second] = args;
  const [ref, count] = second === undefined ? first.split(/=(?=[^=]*$)/) : [first, second];
  if (!ref || count === undefined)
    throw new UsageError("give DEPLOYMENT=REPLICAS or DEPLOYMENT REPLICAS", command);
  return { ref, replicas: integerFlag(count, "REPLICAS", command, { min: 0, max: MAX_REPLICAS })! };
}

const deployScale = defineCommand({
  spec: {
    name: "deploy scale",
    summary: "Set how many replicas a deployment runs (no new revision)",
    usage: "DEPLOYMENT=REPLICAS | DEPLOYMENT REPLICAS",
    details: ["Up places the missing replicas (all or nothing); down removes the highest indexes."],
    options: { json: { type: "boolean", description: "Print the API's answer as JSON" } },
    args: { min: 1, max: 2, what: "the deployment and a count are" },
    examples: ["fleet deploy scale api=5", "fleet deploy scale api 0"],
  },
  async run(context, { values, args }) {
    const { ref, replicas } = scaleTargetOf(args, "deploy scale");
    const { client } = await context.session();
    const deployment = await resolveDeployment(client, ref);
    const detail = await client.deployment.scale.mutate({ id: deployment.id, replicas });
    if (values.json) println(context.io.stdout, JSON.stringify(detail, null, 2));
    else println(context.io.stdout, detail.deployment.name);
    println(context.io.stderr, `${detail.deployment.name} scaled to ${replicas}`);
    return EXIT.ok;
  },
});

// ---- rollback ---------------------------------------------------------------

const deployRollback = defineCommand({
  spec: {
    name: "deploy rollback",
    summary: "Go back to an earlier revision (a new revision with its spec)",
    usage: "[--to-revision N] DEPLOYMENT",
    details: [
      "Default: the revision before the current one. Rolled out by the update policy; follows it unless -d.",
    ],
    options: {
      "to-revision": { type: "string", value: "N", description: "The revision to go back to" },
      detach: { type: "boolean", short: "d", description: "Return without following the rollout" },
    },
    args: { min: 1, max: 1, what: "one deployment (name or id) is" },
    examples: ["fleet deploy rollback api", "fleet deploy rollback --to-revision 2 api"],
  },
  async run(context, { values, args }) {
    const toRevision = integerFlag(values["to-revision"], "--to-revision", "deploy rollback", {
      min: 1,
      max: 2_147_483_647,
    });
    const { client } = await context.session();
    const deployment = await resolveDeployment(client, args[0]!);
    const result = await client.deployment.rollback.mutate({
      id: deployment.id,
      ...(toRevision !== undefined ? { toRevision } : {}),
    });
    println(context.io.stdout, result.deployment.name);
    println(context.io.stderr, changeSummary(result.deployment.name, result.change));
    if (values.detach) return EXIT.ok;
    return followRollout(client, context.io, deployment.id, true);
  },
});

// ---- history ----------------------------------------------------------------

type THistoryItem = Awaited<ReturnType<FleetClient["deployment"]["history"]["query"]>>["items"][number];

/** `kubectl rollout history` with who, when and how its rollout ended. */
export function historyRows(items: readonly THistoryItem[], now: number): string[] {
  return renderTable(
    ["REVISION", "CREATED", "BY", "ROLLOUT", "CHANGE"],
    items.map((item) => [
      `${item.number}${item.current ? " *" : ""}`,
      ago(item.createdAt, now),
      item.createdBy,
      item.rolloutState ?? "-",
      item.diff,
    ]),
  );
}

const deployHistory = defineCommand({
  spec: {
    name: "deploy history",
    summary: "List a deployment's revisions with what each changed",
    usage: "DEPLOYMENT",
    details: ["Newest first; * marks the current revision."],
    options: { json: { type: "boolean", description: "Print the API's answer as JSON" } },
    args: { min: 1, max: 1, what: "one deployment (name or id) is" },
    examples: ["fleet deploy history api"],
  },
  async run(context, { values, args }) {
    const { client } = await context.session();
    const deployment = await resolveDeployment(client, args[0]!);
    const history = await client.deployment.history.query({ id: deployment.id });
    if (values.json) println(context.io.stdout, JSON.stringify(history, null, 2));
    else for (const line of historyRows(history.items, context.io.now())) println(context.io.stdout, line);
    return EXIT.ok;
  },
});

// ---- pause, resume, promote -------------------------------------------------

function rolloutCommand(verb: "pause" | "resume" | "promote", summary: string, details: string) {
  return defineCommand({
    spec: {
      name: `deploy ${verb}`,
      summary,
      usage: "DEPLOYMENT",
      details: [details],
      options: {},
      args: { min: 1, max: 1, what: "one deployment (name or id) is" },
      examples: [`fleet deploy ${verb} api`],
    },
    async run(context, { args }) {
      const { client } = await context.session();
      const deployment = await resolveDeployment(client, args[0]!);
      const detail = await client.deployment[verb].mutate({ id: deployment.id });
      println(
        context.io.stdout,
        `${deployment.name}: rollout to revision ${detail.rollout.toRevision} ${detail.rollout.state}`,
      );
      return EXIT.ok;
    },
  });
}

export const deployGroup: CommandGroup = {
  name: "deploy",
  summary: "Manage deployments: revisions and their rollouts",
  commands: [
    deployLs,
    deployInspect,
    deployUpdate,
    deployScale,
    deployRollback,
    deployHistory,
    rolloutCommand("pause", "Pause a deployment's rollout", "Nothing new is replaced until resume."),
    rolloutCommand(
      "resume",
      "Resume a paused rollout",
      "Replacements in flight get their healthy deadline afresh.",
    ),
    rolloutCommand("promote", "Promote a rollout's canaries", "The rest of the replicas are then replaced."),
  ],
  aliases: { list: "ls" },
  examples: [
    "fleet deploy ls",
    "fleet deploy update --image registry.local/api:2.2 api",
    "fleet deploy history api",
    "fleet deploy rollback --to-revision 2 api",
  ],
};
