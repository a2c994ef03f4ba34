// The rollouts as a long-lived part of the central: every tick (and soon
// after a replica or a rollout changes) each active rollout is decided from
// its rows and its actions applied one transaction at a time. Nothing is kept
// in memory between ticks, so a central started on a database with a rollout
// in progress simply carries on with it.
import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import { isAppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { DesiredStatePusher } from "../placement/placement-effects";
import { applyNextRolloutAction, decideFromRows } from "./rollout-apply";
import { ACTIVE_ROLLOUT_STATES } from "./rollout-decision";

export const ROLLOUT_TICK_MS = 1_000;
/** After a bus event, wait this long for the burst to settle before deciding. */
const WAKE_SETTLE_MS = 50;
/** Actions applied per rollout per pass, so one rollout cannot starve the others. */
const MAX_ACTIONS_PER_PASS = 50;

export interface RolloutLoop {
  /** Decides and applies every active rollout once (awaits the pass). */
  advanceAll(): Promise<void>;
  /** A pass soon, e.g. after a rollout was started. */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
}

export function createRolloutLoop(options: {
  db: PrismaClient;
  bus: EventBus;
  desired: DesiredStatePusher;
  log: Logger;
  clock: Clock;
  /** Default ROLLOUT_TICK_MS; tests use less. */
  tickIntervalMs?: number;
}): RolloutLoop {
  const { db, bus, desired, clock } = options;
  const log = options.log.child({ component: "rollouts" });
  const tickIntervalMs = options.tickIntervalMs ?? ROLLOUT_TICK_MS;
  let chain: Promise<unknown> = Promise.resolve();
  let tickTimer: TimerHandle | null = null;
  let wakeTimer: TimerHandle | null = null;
  let unsubscribe: (() => void)[] = [];
  let running = false;

  async function advanceOne(rolloutId: string, deploymentId: string): Promise<void> {
    for (let count = 0; count < MAX_ACTIONS_PER_PASS; count++) {
      const now = new Date(clock.now());
      // Without a lock first: most passes find nothing to do, and the placement lock is cluster-wide.
      const outside = await decideFromRows(db, rolloutId, now);
      if (!outside || outside.decision.actions.length === 0) return;
      let action: Awaited<ReturnType<typeof applyNextRolloutAction>>;
      try {
        action = await applyNextRolloutAction({ db, bus, desired, log, now, deploymentId, rolloutId });
      } catch (error) {
        // A placement the scheduler refuses stays refused until a host changes: say so on the
        // rollout, so watchers see why it waits (the progress deadline ends it if nothing changes).
        if (!isAppError(error)) throw error;
        await noteProblem(rolloutId, error.message);
        return;
      }
      if (!action) return;
      log.debug({ rolloutId, action }, "rollout step");
      bus.publish("rollout.changed", { deploymentId, rolloutId });
    }
  }

  async function noteProblem(rolloutId: string, message: string): Promise<void> {
    const noted = await db.rollout.updateMany({
      where: {
        id: rolloutId,
        state: { in: [...ACTIVE_ROLLOUT_STATES] },
        OR: [{ reason: null }, { reason: { not: message } }],
      },
      data: { reason: message },
    });
    if (noted.count > 0) {
      log.warn({ rolloutId, problem: message }, "a rollout cannot take its next step");
      const row = await db.rollout.findUnique({ where: { id: rolloutId }, select: { deploymentId: true } });
      if (row) bus.publish("rollout.changed", { deploymentId: row.deploymentId, rolloutId });
    }
  }

  async function pass(): Promise<void> {
    const active = await db.rollout.findMany({
      where: { state: { in: [...ACTIVE_ROLLOUT_STATES] } },
      orderBy: { createdAt: "asc" },
      select: { id: true, deploymentId: true },
    });
    for (const rollout of active) {
      if (!running) return;
      await advanceOne(rollout.id, rollout.deploymentId).catch((error: unknown) => {
        log.warn({ err: error, rolloutId: rollout.id }, "advancing a rollout failed; trying again next tick");
      });
    }
  }

  function advanceAll(): Promise<void> {
    const result = chain.then(pass, pass);
    chain = result.catch(() => {});
    return result;
  }

  function scheduleTick(): void {
    if (!running) return;
    tickTimer = clock.setTimeout(() => {
      tickTimer = null;
      void advanceAll()
        .catch((error: unknown) => log.warn({ err: error }, "a rollout pass failed"))
        .finally(scheduleTick);
    }, tickIntervalMs);
  }

  function wake(): void {
    if (!running || wakeTimer !== null) return;
    wakeTimer = clock.setTimeout(() => {
      wakeTimer = null;
      void advanceAll().catch((error: unknown) => log.warn({ err: error }, "a rollout pass failed"));
    }, WAKE_SETTLE_MS);
  }

  return {
    advanceAll,
    wake,
    start() {
      if (running) return;
      running = true;
      unsubscribe = [bus.subscribe("container.changed", wake), bus.subscribe("rollout.started", wake)];
      wake();
      scheduleTick();
    },
    async stop() {
      running = false;
      for (const stop of unsubscribe) stop();
      unsubscribe = [];
      if (tickTimer !== null) clock.clearTimeout(tickTimer);
      if (wakeTimer !== null) clock.clearTimeout(wakeTimer);
      tickTimer = null;
      wakeTimer = null;
      await chain;
    },
  };
}
