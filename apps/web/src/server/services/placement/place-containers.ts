// Placement: a transaction locks the hosts it may place on, runs the pure
// scheduler over them, inserts the container rows and adds their requests to
// the chosen hosts' allocated columns, in a few multi-row statements however
// many containers. After commit the hosts' desired sets are pushed.
// Concurrent placements queue on the host locks, so none can promise a host
// more than its allocatable. `placement-batch.ts` places single runs
// together, locking only the hosts they change.

import { volumeNamesOf } from "@fleet/shared/domain/container-spec";
import {
  formatLabelSelector,
  parseLabelSelector,
  type TLabelRequirement,
} from "@fleet/shared/label-selector";
import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import { type ScheduleManyResult, scheduleMany } from "@fleet/shared/scheduler/schedule-many";
import type {
  HostRejection,
  PlacementRequest,
  PlacementStrategy,
  PlacementSuccess,
  ResourceAmounts,
} from "@fleet/shared/scheduler/types";
import type { Prisma, PrismaClient } from "../../db/client";
import { containerColumnsOf } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvents } from "../../events/record-event";
import { assertTemplateBindMounts } from "./bind-mount-check";
import { generateContainerNames, liveNamesAmong } from "./container-names";
import type { TContainerTemplate } from "./container-template";
import {
  applyPlacementEffects,
  applyPlacementEffectsInBackground,
  type PlacementDeps,
  PlacementEffects,
} from "./placement-effects";
import {
  lockPlacementCluster,
  recordPlacedVolumes,
  type TPlacementCluster,
  type TTransaction,
} from "./placement-lock";
import { queuePlacement } from "./placement-queue";
import { withTransactionRetry } from "./transaction-retry";
import { uuidV7 } from "./uuid-v7";

/** Long enough for a hundred placements queued on the same host locks. */
export const PLACEMENT_TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 60_000 } as const;

export interface TContainerDraft {
  /** Generated docker-style when absent. */
  name?: string | undefined;
  template: TContainerTemplate;
  deploymentId?: string | undefined;
  replicaIndex?: number | undefined;
  /** The deployment revision a replica is made from. */
  revision?: number | undefined;
}

export interface TPlacementDecision {
  hostId: string;
  hostName: string;
  reason: string;
  /** Every host ruled out, with all of its reasons. */
  rejected: HostRejection[];
}

/** A container row as inserted: every column. */
export type TInsertedContainer = Prisma.ContainerModel;

export interface TPlacedContainer extends TPlacementDecision {
  containerId: string;
  name: string;
}

/** Placed, with its row as stored (every column). */
export interface TPlacedRow extends TPlacedContainer {
  row: TInsertedContainer;
}

/** Reads the placed rows back in one query, inside the transaction that wrote them. */
export async function withRows(tx: TTransaction, placed: readonly TPlacedContainer[]): Promise<TPlacedRow[]> {
  const rows = await tx.container.findMany({ where: { id: { in: placed.map((each) => each.containerId) } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return placed.map((each) => {
    const row = byId.get(each.containerId);
    if (!row) throw new Error(`placed container ${each.containerId} was not found`);
    // A spread would read the lazy `rejected`: define it on the copy instead.
    return Object.defineProperties({ row } as TPlacedRow, Object.getOwnPropertyDescriptors(each));
  });
}

export interface TPlacementContext {
  tx: TTransaction;
  cluster: TPlacementCluster;
  effects: PlacementEffects;
  now: Date;
}

export function parseConstraints(constraints: string): TLabelRequirement[] {
  try {
    return parseLabelSelector(constraints);
  } catch (error) {
    throw new AppError(
      "BAD_REQUEST",
      `constraints: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function placementRequestOf(
  template: TContainerTemplate,
  options: {
    strategy: PlacementStrategy;
    constraints: TLabelRequirement[];
    avoidHostIds?: readonly string[];
  },
): PlacementRequest {
  return {
    resources: template.resources,
    ports: template.ports,
    constraints: options.constraints,
    strategy: options.strategy,
    volumes: volumeNamesOf(template.mounts),
    ...(options.avoidHostIds && options.avoidHostIds.length > 0
      ? { avoidHostIds: [...options.avoidHostIds] }
      : {}),
  };
}

/** `rejected` stays the scheduler's lazy getter: with many hosts, only an answer that shows it pays for it. */
export function decisionOf(result: PlacementSuccess): TPlacementDecision {
  return {
    hostId: result.hostId,
    hostName: result.hostName,
    reason: result.reason,
    get rejected() {
      return result.rejected;
    },
  };
}

/** Names for the drafts: given ones must be free among live containers, missing ones are generated. */
async function resolveNames(tx: TTransaction, drafts: readonly TContainerDraft[]): Promise<string[]> {
  const given = drafts.flatMap((draft) => (draft.name ? [draft.name] : []));
  const used = new Set<string>();
  for (const name of given) {
    if (used.has(name)) throw new AppError("CONFLICT", `the name ${name} is given twice`);
    used.add(name);
  }
  const taken = await liveNamesAmong(tx, given);
  const clash = given.find((name) => taken.has(name));
  if (clash) throw new AppError("CONFLICT", `a container named ${clash} already exists`);
  const generated = await generateContainerNames(tx, drafts.length - given.length, used);
  return drafts.map((draft) => draft.name ?? generated.shift()!);
}

/** Bind mounts checked once per distinct template (a deployment's replicas share one). */
async function assertDraftsBindMounts(tx: TTransaction, drafts: readonly TContainerDraft[]) {
  for (const template of new Set(drafts.map((draft) => draft.template))) {
    await assertTemplateBindMounts(tx, template);
  }
}

export interface TPlacementWrite {
  name: string;
  draft: TContainerDraft;
  decision: TPlacementDecision;
  strategy: PlacementStrategy;
  constraints: string;
  requestedAt?: Date;
  eventKind?: string;
  eventMessage?: string;
  eventData?: Record<string, string | number | boolean | null>;
}

function addTo(sums: Map<string, ResourceAmounts>, hostId: string, take: ResourceAmounts): void {
  const sum = sums.get(hostId);
  if (!sum) {
    sums.set(hostId, { ...take });
    return;
  }
  sum.cpuMillis += take.cpuMillis;
  sum.memoryBytes += take.memoryBytes;
  sum.pids += take.pids;
}

/**
 * Inserts placed containers and takes their requests from their hosts: one
 * INSERT for the rows, one UPDATE for the hosts (summed per host), one INSERT
 * for the events. Every chosen host's row must be locked by this transaction.
 */
export async function writePlacements(
  ctx: TPlacementContext,
  writes: readonly TPlacementWrite[],
): Promise<TPlacedContainer[]> {
  const { tx, cluster, effects, now } = ctx;
  if (writes.length === 0) return [];
  const sums = new Map<string, ResourceAmounts>();
  for (const { decision, draft } of writes) {
    if (!cluster.lockedHostIds.has(decision.hostId)) {
      // The scheduler only picks online, undrained hosts, which are all locked.
      throw new Error(`placement chose host ${decision.hostId}, whose row this transaction does not hold`);
    }
    // The same amounts the scheduler booked in the view.
    addTo(sums, decision.hostId, effectiveRequests(draft.template.resources));
  }
  // Raw SQL over arrays, one bind value per column: Prisma's createMany
  // compiles one value per cell, which took seconds for thousands of rows.
  const ids = writes.map(() => uuidV7());
  const columns = writes.map(({ draft }) => containerColumnsOf(draft.template));
  const text = <T>(pick: (column: (typeof columns)[number], index: number) => T) =>
    columns.map((column, index) => {
      const value = pick(column, index);
      return value === null || value === undefined ? null : String(value);
    });
  await tx.$executeRaw`
    INSERT INTO containers (id, name, deployment_id, replica_index, revision, host_id, image, image_digest,
      spec, cpu_request_millis, cpu_limit_millis, memory_request_bytes, memory_limit_bytes, pids_request,
      pids_limit, restart_policy, restart_max_retries, desired_state, actual_state, placement_reason,
      strategy, constraints, requested_at, scheduled_at, updated_at)
    SELECT v.id, v.name, v.deployment_id, v.replica_index::int, v.revision::int, v.host_id, v.image,
      v.image_digest, v.spec::jsonb, v.cpu_request::int, v.cpu_limit::int, v.memory_request::bigint,
      v.memory_limit::bigint, v.pids_request::int, v.pids_limit::int, v.restart_policy::restart_policy,
      v.restart_max_retries::int, 'running', 'pending', v.reason, v.strategy::placement_strategy,
      v.constraints, v.requested_at::timestamptz, ${now}, now()
    FROM unnest(
      ${ids}::text[], ${writes.map((write) => write.name)}::text[],
      ${writes.map((write) => write.draft.deploymentId ?? null)}::text[],
      ${text((_, index) => writes[index]!.draft.replicaIndex)}::text[],
      ${text((_, index) => writes[index]!.draft.revision)}::text[],
      ${writes.map((write) => write.decision.hostId)}::text[],
      ${text((column) => column.image)}::text[], ${text((column) => column.imageDigest)}::text[],
      ${columns.map((column) => JSON.stringify(column.spec))}::text[],
      ${text((column) => column.cpuRequestMillis)}::text[], ${text((column) => column.cpuLimitMillis)}::text[],
      ${text((column) => column.memoryRequestBytes)}::text[], ${text((column) => column.memoryLimitBytes)}::text[],
      ${text((column) => column.pidsRequest)}::text[], ${text((column) => column.pidsLimit)}::text[],
      ${text((column) => (column.restartPolicy === "on_failure" ? "on-failure" : column.restartPolicy))}::text[],
      ${text((column) => column.restartMaxRetries)}::text[],
      ${writes.map((write) => write.decision.reason)}::text[], ${writes.map((write) => write.strategy)}::text[],
      ${writes.map((write) => write.constraints)}::text[],
      ${writes.map((write) => (write.requestedAt ?? now).toISOString())}::text[]
    ) AS v(id, name, deployment_id, replica_index, revision, host_id, image, image_digest, spec,
      cpu_request, cpu_limit, memory_request, memory_limit, pids_request, pids_limit, restart_policy,
      restart_max_retries, reason, strategy, constraints, requested_at)`;
  const hostIds = [...sums.keys()];
  const amounts = [...sums.values()];
  await tx.$executeRaw`
    UPDATE hosts AS h SET
      cpu_allocated_millis = h.cpu_allocated_millis + v.cpu,
      memory_allocated_bytes = h.memory_allocated_bytes + v.memory,
      pids_allocated = h.pids_allocated + v.pids,
      updated_at = now()
    FROM unnest(
      ${hostIds}::text[],
      ${amounts.map((take) => take.cpuMillis)}::int[],
      ${amounts.map((take) => String(take.memoryBytes))}::bigint[],
      ${amounts.map((take) => take.pids)}::int[]
    ) AS v(id, cpu, memory, pids)
    WHERE h.id = v.id`;
  const placed = writes.map(({ name, decision }, index) => ({
    containerId: ids[index]!,
    name,
    hostId: decision.hostId,
    hostName: decision.hostName,
    reason: decision.reason,
    get rejected() {
      return decision.rejected;
    },
  }));
  effects.events.push(
    ...(await recordEvents(
      tx,
      writes.map((write, index) => {
        const { decision, draft, name } = write;
        return {
          kind: write.eventKind ?? "container.placed",
          hostId: decision.hostId,
          containerId: placed[index]!.containerId,
          deploymentId: draft.deploymentId ?? null,
          message:
            write.eventMessage ?? `container ${name} placed on ${decision.hostName}: ${decision.reason}`,
          data: {
            hostName: decision.hostName,
            reason: decision.reason,
            strategy: write.strategy,
            ...write.eventData,
          },
          ts: now,
        };
      }),
    )),
  );
  for (const container of placed) effects.containerChanged(container.containerId, container.hostId);
  return placed;
}

/**
 * Inserts one placed container and takes its requests from the host. The
 * host's row must be locked by this transaction.
 */
export async function insertPlacedContainer(
  ctx: TPlacementContext,
  write: TPlacementWrite,
): Promise<TPlacedContainer> {
  const [placed] = await writePlacements(ctx, [write]);
  return placed!;
}

/** PRECONDITION_FAILED for drafts scheduled all or nothing: a single one's own message, else which one failed. */
export function noFitError(
  scheduled: Extract<ScheduleManyResult, { ok: false }>,
  requestCount: number,
): AppError {
  const last = scheduled.results.at(-1);
  const single = requestCount === 1 && last && !last.ok;
  return new AppError("PRECONDITION_FAILED", single ? last.message : scheduled.message);
}

/**
 * Schedules and inserts drafts inside a placement transaction, all or
 * nothing: when one does not fit, PRECONDITION_FAILED with the scheduler's
 * reasons for every host, and the caller's transaction rolls back.
 */
export async function placeDrafts(
  ctx: TPlacementContext,
  options: {
    drafts: readonly TContainerDraft[];
    strategy: PlacementStrategy;
    constraints: string;
    avoidHostIds?: readonly string[];
  },
): Promise<TPlacedContainer[]> {
  const { drafts, strategy } = options;
  await assertDraftsBindMounts(ctx.tx, drafts);
  const requirements = parseConstraints(options.constraints);
  const constraints = formatLabelSelector(requirements);
  const requests = drafts.map((draft) =>
    placementRequestOf(draft.template, {
      strategy,
      constraints: requirements,
      avoidHostIds: options.avoidHostIds,
    }),
  );
  // Names first: a run retried after its answer was lost then hears that its
  // container exists (CONFLICT), not that the fleet has no room for a second.
  const names = await resolveNames(ctx.tx, drafts);
  const scheduled = scheduleMany(ctx.cluster.view, requests, { allOrNothing: true });
  if (!scheduled.ok) throw noFitError(scheduled, drafts.length);
  return writePlacements(
    ctx,
    drafts.map((draft, index) => ({
      name: names[index]!,
      draft,
      decision: decisionOf(scheduled.placements[index]!),
      strategy,
      constraints,
    })),
  );
}

export interface RunPlacementOptions extends PlacementDeps {
  db: PrismaClient;
  now: Date;
  /** Host rows to lock besides the candidates (a lost host whose containers move away). */
  alsoLockHostIds?: readonly string[];
  /** Answer once committed and leave the desired-set pushes to the background (a big deployment's hosts). */
  pushInBackground?: boolean;
}

/**
 * `work` in a placement transaction over every candidate host, locked, with
 * deadlock victims run again; not queued, effects not applied.
 */
export async function runPlacementTransaction<T>(
  options: RunPlacementOptions,
  work: (ctx: TPlacementContext) => Promise<T>,
): Promise<{ result: T; effects: PlacementEffects }> {
  return withTransactionRetry(() => {
    const effects = new PlacementEffects();
    return options.db.$transaction(async (tx) => {
      const cluster = await lockPlacementCluster(tx, { alsoLockHostIds: options.alsoLockHostIds });
      const result = await work({ tx, cluster, effects, now: options.now });
      // Every placement path books its choices in the view, so volumes they created are all here.
      await recordPlacedVolumes(tx, cluster.view, options.now);
      return { result, effects };
    }, PLACEMENT_TRANSACTION_OPTIONS);
  });
}

/** Runs `work` in a placement transaction, then applies its effects once committed. */
export async function runPlacement<T>(
  options: RunPlacementOptions,
  work: (ctx: TPlacementContext) => Promise<T>,
): Promise<T> {
  const { result, effects } = await queuePlacement(options.db, () => runPlacementTransaction(options, work));
  if (options.pushInBackground) applyPlacementEffectsInBackground(options, effects);
  else await applyPlacementEffects(options, effects);
  return result;
}
