// `fleet rollout status [-w] DEPLOYMENT`, as `kubectl rollout status`: where
// the newest rollout stands; with -w, each change until it ends, over the
// deployment.watchRollout subscription. Exits 1 when the rollout failed (or
// was reverted or cancelled), 0 when it succeeded.

import type { TDeployment } from "../api-types";
import { EXIT } from "../cli-error";
import { type FleetClient, subscriptionStream, untracked } from "../client";
import { type CommandGroup, defineCommand } from "../command";
import { type CliIo, println } from "../io";
import { expectOne, matchByIdOrName } from "../resolve";

type TRolloutDetail = NonNullable<Awaited<ReturnType<FleetClient["deployment"]["rollout"]["query"]>>>;

const RECONNECT_GRACE_MS = 30_000;
const ENDED = new Set(["succeeded", "failed", "reverted", "cancelled"]);

export async function resolveDeployment(client: FleetClient, ref: string): Promise<TDeployment> {
  const { items } = await client.deployment.list.query({});
  return expectOne(matchByIdOrName(ref, items), ref, "deployment");
}

/** One line for where a rollout stands. */
export function rolloutStatusLine(name: string, detail: TRolloutDetail | null): string {
  if (!detail) return `${name}: no rollout yet (revision 1 since creation)`;
  const { rollout } = detail;
  const { progress } = rollout;
  const head = `${name}: rollout ${rollout.fromRevision ?? "-"} → ${rollout.toRevision} ${rollout.state}`;
  const counts = `${progress.updated}/${progress.desired} updated, ${progress.updatedServing} of them serving, ${progress.serving} serving in all`;
  const tail = rollout.reason
    ? `: ${rollout.reason}`
    : rollout.waitingFor && !ENDED.has(rollout.state)
      ? ` (waiting for ${rollout.waitingFor})`
      : "";
  return `${head}, ${counts}${tail}`;
}

/** One line per replacement, as it stands. */
export function stepLine(step: TRolloutDetail["steps"][number]): string {
  const old = step.oldContainerName ?? "nothing";
  const fresh = step.newContainerName ?? "?";
  const what = `replica ${step.replicaIndex}: ${old} → ${fresh} (${step.order}${step.canary ? ", canary" : ""})`;
  const state = step.state === "started" ? "replacing" : step.state === "done" ? "done" : "failed";
  return `${what} ${state}${step.reason ? `: ${step.reason}` : ""}`;
}

export function exitCodeOf(detail: TRolloutDetail | null): number {
  return !detail || detail.rollout.state === "succeeded" ? EXIT.ok : EXIT.failure;
}

/**
 * Prints the rollout as it moves (new step lines and status lines as they
 * change) until it ends, then returns its exit code. `untilEnd` false prints
 * the current state once.
 */
export async function followRollout(
  client: FleetClient,
  io: CliIo,
  deploymentId: string,
  untilEnd: boolean,
  name?: string,
): Promise<number> {
  const label = name ?? (await client.deployment.get.query({ id: deploymentId })).deployment.name;
  if (!untilEnd) {
    const detail = await client.deployment.rollout.query({ id: deploymentId });
    for (const step of detail?.steps ?? []) println(io.stdout, stepLine(step));
    println(io.stdout, rolloutStatusLine(label, detail));
    return ENDED.has(detail?.rollout.state ?? "succeeded") ? exitCodeOf(detail) : EXIT.ok;
  }
  const printed = new Map<string, string>();
  let lastStatus = "";
  const stream = subscriptionStream<{ id: string; data: { rollout: TRolloutDetail | null } }>(
    (handlers) => client.deployment.watchRollout.subscribe({ id: deploymentId }, handlers),
    { signal: io.signal, reconnectGraceMs: RECONNECT_GRACE_MS },
  );
  for await (const value of stream) {
    const { rollout: detail } = untracked(value);
    for (const step of detail?.steps ?? []) {
      const line = stepLine(step);
      if (printed.get(step.id) === line) continue;
      printed.set(step.id, line);
      println(io.stdout, line);
    }
    const status = rolloutStatusLine(label, detail);
    if (status !== lastStatus) {
      lastStatus = status;
      println(io.stdout, status);
    }
    if (!detail || ENDED.has(detail.rollout.state)) return exitCodeOf(detail);
  }
  return io.signal?.aborted ? EXIT.interrupted : EXIT.failure;
}

const rolloutStatus = defineCommand({
  spec: {
    name: "rollout status",
    summary: "Show where a deployment's newest rollout stands",
    usage: "[-w] DEPLOYMENT",
    details: [
      "With -w, prints each replacement and status change until the rollout ends.",
      "Exits 1 when the rollout failed, was reverted or cancelled; 0 when it succeeded or is still going.",
    ],
    options: { watch: { type: "boolean", short: "w", description: "Follow the rollout until it ends" } },
    args: { min: 1, max: 1, what: "one deployment (name or id) is" },
    examples: ["fleet rollout status api", "fleet rollout status -w api"],
  },
  async run(context, { values, args }) {
    const { client } = await context.session();
    const deployment = await resolveDeployment(client, args[0]!);
    return followRollout(client, context.io, deployment.id, values.watch === true, deployment.name);
  },
});

export const rolloutGroup: CommandGroup = {
  name: "rollout",
  summary: "Follow deployments' rollouts",
  commands: [rolloutStatus],
  examples: ["fleet rollout status -w api"],
};
