// The rescheduler as a long-lived part of the central: it hears of lost hosts
// (the gateway's offline hook, the host service's removal) and retries the
// containers waiting for room. All its work runs one pass at a time.
import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { DesiredStatePusher } from "../placement/placement-effects";
import { placePendingContainers } from "./place-pending";
import { rescheduleFromHost, type THostLossReason, type TRescheduleOutcome } from "./reschedule-host";

/** How often waiting containers are tried again without any host changing. */
export const RETRY_INTERVAL_MS = 10_000;
/** After a host changes, wait this long for the burst of changes to settle before retrying. */
export const HOST_CHANGE_SETTLE_MS = 250;

export interface Rescheduler {
  /** Moves the host's containers elsewhere (awaits the whole pass). */
  hostLost(hostId: string, reason: THostLossReason): Promise<TRescheduleOutcome | null>;
  /** Tries the waiting containers now; returns how many got a host. */
  retryPending(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export function createRescheduler(options: {
  db: PrismaClient;
  bus: EventBus;
  desired: DesiredStatePusher;
  log: Logger;
  clock: Clock;
  /** Default RETRY_INTERVAL_MS. */
  retryIntervalMs?: number;
}): Rescheduler {
  const { db, bus, desired, clock } = options;
  const log = options.log.child({ component: "rescheduler" });
  const retryIntervalMs = options.retryIntervalMs ?? RETRY_INTERVAL_MS;
  let chain: Promise<unknown> = Promise.resolve();
  let retryTimer: TimerHandle | null = null;
  let settleTimer: TimerHandle | null = null;
  let unsubscribe: (() => void) | null = null;
  let running = false;

  const deps = () => ({ db, bus, desired, log, now: new Date(clock.now()) });

  function serial<T>(work: () => Promise<T>): Promise<T> {
    const result = chain.then(work, work);
    chain = result.catch(() => {});
    return result;
  }

  async function hostLost(hostId: string, reason: THostLossReason): Promise<TRescheduleOutcome | null> {
    return serial(async () => {
      const outcome = await rescheduleFromHost({ ...deps(), hostId, reason });
      if (outcome.moved.length > 0 || outcome.pending.length > 0) {
        log.info(
          { hostId, reason, moved: outcome.moved.length, pending: outcome.pending.length },
          "rescheduled the containers of a lost host",
        );
      }
      if (outcome.stranded > 0) {
        log.warn(
          { hostId, reason, stranded: outcome.stranded },
          reason === "removed"
            ? "removed host still holds containers that are not rescheduled (restart policy no, no deployment)"
            : "offline host holds containers that are not rescheduled (restart policy no, no deployment)",
        );
      }
      return outcome;
    }).catch((error: unknown) => {
      log.error(
        { err: error, hostId, reason },
        "rescheduling a lost host failed; waiting containers are retried",
      );
      return null;
    });
  }

  function retryPending(): Promise<number> {
    return serial(() => placePendingContainers(deps())).then(
      (placed) => {
        if (placed > 0) log.info({ placed }, "placed containers that were waiting for room");
        return placed;
      },
      (error: unknown) => {
        log.error({ err: error }, "placing waiting containers failed");
        return 0;
      },
    );
  }

  function scheduleRetry(): void {
    if (!running) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = null;
      void retryPending().finally(scheduleRetry);
    }, retryIntervalMs);
  }

  return {
    hostLost,
    retryPending,
    start() {
      if (running) return;
      running = true;
      // A host joining, coming back or getting capacity may be what a waiting container needs.
      unsubscribe = bus.subscribe("host.changed", () => {
        if (settleTimer !== null || !running) return;
        settleTimer = clock.setTimeout(() => {
          settleTimer = null;
          void retryPending();
        }, HOST_CHANGE_SETTLE_MS);
      });
      scheduleRetry();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      if (retryTimer !== null) clock.clearTimeout(retryTimer);
      if (settleTimer !== null) clock.clearTimeout(settleTimer);
      retryTimer = null;
      settleTimer = null;
      await chain;
    },
  };
}
