// Placement: one transaction locks the candidate hosts, runs the pure
// scheduler over them, inserts the container rows and adds their requests to
// the chosen hosts' allocated columns. After commit the hosts' desired sets
// are pushed. Concurrent placements queue on the host locks, so none can
// promise a host more than its allocatable.

import { volumeNamesOf } from "@fleet/shared/domain/container-spec";
import {
  formatLabelSelector,
  parseLabelSelector,
  type TLabelRequirement,
} from "@fleet/shared/label-selector";
import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import { scheduleMany } from "@fleet/shared/scheduler/schedule-many";
import type {
  HostRejection,
  PlacementRequest,
  PlacementStrategy,
  PlacementSuccess,
} from "@fleet/shared/scheduler/types";
import type { PrismaClient } from "../../db/client";
import { containerColumnsOf } from "../../db/container-row";
import { AppError } from "../../errors";
import { recordEvent } from "../../events/record-event";
import { assertTemplateBindMounts } from "./bind-mount-check";
import { generateContainerName, liveNamesAmong } from "./container-names";
import type { TContainerTemplate } from "./container-template";
import { allocateOnHost } from "./host-allocation";
import { applyPlacementEffects, type PlacementDeps, PlacementEffects } from "./placement-effects";
import {
  lockPlacementCluster,
  recordPlacedVolumes,
  type TPlacementCluster,
  type TTransaction,
} from "./placement-lock";
import { queuePlacement } from "./placement-queue";
import { withTransactionRetry } from "./transaction-retry";

/** Long enough for a hundred placements queued on the same host locks. */
export const PLACEMENT_TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 60_000 } as const;

export interface TContainerDraft {
  /** Generated docker-style when absent. */
  name?: string | undefined;
  template: TContainerTemplate;
  deploymentId?: string | undefined;
  replicaIndex?: number | undefined;
}

export interface TPlacementDecision {
  hostId: string;
  hostName: string;
  reason: string;
  /** Every host ruled out, with all of its reasons. */
  rejected: HostRejection[];
}

export interface TPlacedContainer extends TPlacementDecision {
  containerId: string;
  name: string;
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

export function decisionOf(result: PlacementSuccess): TPlacementDecision {
  return {
    hostId: result.hostId,
    hostName: result.hostName,
    reason: result.reason,
    rejected: result.rejected,
  };
}

/** Names for the drafts: given ones must be free among live containers, missing ones are generated. */
async function resolveNames(tx: TTransaction, drafts: readonly TContainerDraft[]): Promise<string[]> {
  const given = drafts.flatMap((draft) => (draft.name ? [draft.name] : []));
  const duplicate = given.find((name, index) => given.indexOf(name) !== index);
  if (duplicate) throw new AppError("CONFLICT", `the name ${duplicate} is given twice`);
  const taken = await liveNamesAmong(tx, given);
  const clash = given.find((name) => taken.has(name));
  if (clash) throw new AppError("CONFLICT", `a container named ${clash} already exists`);
  const used = new Set(given);
  const names: string[] = [];
  for (const draft of drafts) {
    const name = draft.name ?? (await generateContainerName(tx, used));
    used.add(name);
    names.push(name);
  }
  return names;
}

/**
 * Inserts one placed container and takes its requests from the host. The
 * host's row must be locked by this transaction.
 */
export async function insertPlacedContainer(
  ctx: TPlacementContext,
  options: {
    name: string;
    draft: TContainerDraft;
    decision: TPlacementDecision;
    strategy: PlacementStrategy;
    constraints: string;
    requestedAt?: Date;
    eventKind?: string;
    eventMessage?: string;
    eventData?: Record<string, string | number | boolean | null>;
  },
): Promise<TPlacedContainer> {
  const { tx, cluster, effects, now } = ctx;
  const { draft, decision, name } = options;
  if (!cluster.lockedHostIds.has(decision.hostId)) {
    // The scheduler only picks online, undrained hosts, which are all locked.
    throw new Error(`placement chose host ${decision.hostId}, whose row this transaction does not hold`);
  }
  const row = await tx.container.create({
    data: {
      ...containerColumnsOf(draft.template),
      name,
      hostId: decision.hostId,
      deploymentId: draft.deploymentId ?? null,
      replicaIndex: draft.replicaIndex ?? null,
      desiredState: "running",
      actualState: "pending",
      placementReason: decision.reason,
      strategy: options.strategy,
      constraints: options.constraints,
      requestedAt: options.requestedAt ?? now,
      scheduledAt: now,
    },
    select: { id: true },
  });
  // The same amounts the scheduler booked in the view.
  await allocateOnHost(tx, decision.hostId, effectiveRequests(draft.template.resources));
  effects.events.push(
    await recordEvent({
      db: tx,
      kind: options.eventKind ?? "container.placed",
      hostId: decision.hostId,
      containerId: row.id,
      deploymentId: draft.deploymentId ?? null,
      message: options.eventMessage ?? `container ${name} placed on ${decision.hostName}: ${decision.reason}`,
      data: {
        hostName: decision.hostName,
        reason: decision.reason,
        strategy: options.strategy,
        ...options.eventData,
      },
      ts: now,
    }),
  );
  effects.containerChanged(row.id, decision.hostId);
  return { containerId: row.id, name, ...decision };
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
  for (const draft of drafts) await assertTemplateBindMounts(ctx.tx, draft.template);
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
  if (!scheduled.ok) {
    const last = scheduled.results.at(-1);
    const message = drafts.length === 1 && last && !last.ok ? last.message : scheduled.message;
    throw new AppError("PRECONDITION_FAILED", message);
  }
  const placed: TPlacedContainer[] = [];
  for (const [index, draft] of drafts.entries()) {
    placed.push(
      await insertPlacedContainer(ctx, {
        name: names[index]!,
        draft,
        decision: decisionOf(scheduled.placements[index]!),
        strategy,
        constraints,
      }),
    );
  }
  return placed;
}

export interface RunPlacementOptions extends PlacementDeps {
  db: PrismaClient;
  now: Date;
  /** Host rows to lock besides the candidates (a lost host whose containers move away). */
  alsoLockHostIds?: readonly string[];
}

/** Runs `work` in a placement transaction, then applies its effects once committed. */
export async function runPlacement<T>(
  options: RunPlacementOptions,
  work: (ctx: TPlacementContext) => Promise<T>,
): Promise<T> {
  let effects = new PlacementEffects();
  const result = await queuePlacement(options.db, () =>
    withTransactionRetry(() => {
      effects = new PlacementEffects();
      return options.db.$transaction(async (tx) => {
        const cluster = await lockPlacementCluster(tx, { alsoLockHostIds: options.alsoLockHostIds });
        const result = await work({ tx, cluster, effects, now: options.now });
        // Every placement path books its choices in the view, so volumes they created are all here.
        await recordPlacedVolumes(tx, cluster.view, options.now);
        return result;
      }, PLACEMENT_TRANSACTION_OPTIONS);
    }),
  );
  await applyPlacementEffects(options, effects);
  return result;
}

/**
 * Places containers made from drafts, all or nothing, and pushes the chosen
 * hosts' desired sets. Throws PRECONDITION_FAILED (nothing written) when one
 * fits nowhere, CONFLICT when a given name is taken.
 */
export async function placeContainers(
  options: RunPlacementOptions & {
    drafts: readonly TContainerDraft[];
    strategy: PlacementStrategy;
    constraints: string;
    avoidHostIds?: readonly string[];
  },
): Promise<TPlacedContainer[]> {
  return runPlacement(options, (ctx) => placeDrafts(ctx, options));
}
