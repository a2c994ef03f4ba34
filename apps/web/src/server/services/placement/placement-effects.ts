// What follows a placement commit. Nothing here may run inside the
// transaction: an agent must never receive a desired set the database could
// still roll back, and the bus must never announce a row that does not exist.
import type { EventBus } from "../../events/event-bus";
import type { TEventRow } from "../../events/event-view";
import type { Logger } from "../../logger";

/** The part of the gateway placement needs (the real one is `Gateway.pushDesired`). */
export interface DesiredStatePusher {
  pushDesired(hostId: string): Promise<unknown>;
  /** Many hosts at once, in one transaction: all pushed, or the promise rejects. */
  pushDesiredMany(hostIds: readonly string[]): Promise<unknown>;
}

export interface PlacementDeps {
  bus: EventBus;
  desired: DesiredStatePusher;
  log: Logger;
}

/** Collected while the transaction runs, applied once it committed. */
export class PlacementEffects {
  readonly events: TEventRow[] = [];
  /** Hosts whose desired set changed. */
  readonly hostsToPush = new Set<string>();
  /** Hosts whose row changed (allocation), for `host.changed`. */
  readonly changedHosts = new Set<string>();
  readonly changedContainers: { containerId: string; hostId: string | null }[] = [];

  containerChanged(containerId: string, hostId: string | null): void {
    this.changedContainers.push({ containerId, hostId });
    if (hostId) {
      this.hostsToPush.add(hostId);
      this.changedHosts.add(hostId);
    }
  }
}

/**
 * Publishes what changed and pushes each affected host's desired set, and
 * waits for those pushes. A push that fails is logged and tried again a few
 * times, not thrown: the rows are committed, and at worst the host gets the
 * same set at its next welcome (desired state is level-triggered).
 */
export async function applyPlacementEffects(deps: PlacementDeps, effects: PlacementEffects): Promise<void> {
  publishEffects(deps.bus, effects);
  const pusher = pusherFor(deps);
  await Promise.all([...effects.hostsToPush].map((hostId) => pusher.push(hostId)));
}

/**
 * Publishes what changed at once and leaves the desired-set pushes to run in
 * the background: the caller answers as soon as the rows are committed, and
 * the agents hear of them moments later.
 */
export function applyPlacementEffectsInBackground(deps: PlacementDeps, effects: PlacementEffects): void {
  publishEffects(deps.bus, effects);
  const pusher = pusherFor(deps);
  for (const hostId of effects.hostsToPush) void pusher.push(hostId);
}

function publishEffects(bus: EventBus, effects: PlacementEffects): void {
  for (const event of effects.events) bus.publish("event", event);
  for (const change of effects.changedContainers) bus.publish("container.changed", change);
  for (const hostId of effects.changedHosts) bus.publish("host.changed", { hostId });
}

/**
 * Pushes run in batches, each one transaction for all its hosts
 * (`pushDesiredMany`): one per host cost a transaction of five round trips
 * per placement when runs spread over a thousand hosts. At most
 * PUSH_BATCHES at once, since placements and the API need pooled
 * connections too.
 */
const PUSH_BATCHES = 2;
const PUSH_BATCH_HOSTS = 250;
/** Tries after a failed push, 1, 2, 4, 8 and 16 s apart. */
const PUSH_RETRIES = 5;
const PUSH_RETRY_BASE_MS = 1000;

interface TWaiter {
  promise: Promise<void>;
  done: () => void;
}

/**
 * Pushes of one gateway, batched: one in flight per host; a host asked for
 * again while its push runs is pushed once more after it, and every request
 * waiting meanwhile shares that push (it reads the whole set when it starts,
 * so it carries every change made before). Requests made while batches run
 * go together in the next one, as placements do. Pending work is bounded by
 * the number of hosts.
 */
class CoalescingPusher {
  /** Host id → settles when the host's next push (not started yet) is done. */
  readonly #waiting = new Map<string, TWaiter>();
  readonly #running = new Set<string>();
  /** Host id → pushes of it failed in a row. */
  readonly #failures = new Map<string, number>();
  #batches = 0;
  #pumpQueued = false;

  constructor(
    readonly desired: DesiredStatePusher,
    readonly log: Logger,
  ) {}

  push(hostId: string): Promise<void> {
    let next = this.#waiting.get(hostId);
    if (!next) {
      let done = () => {};
      const promise = new Promise<void>((resolve) => (done = resolve));
      next = { promise, done };
      this.#waiting.set(hostId, next);
    }
    // After the caller's loop: every host of one placement goes in one batch.
    if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#pump();
      });
    }
    return next.promise;
  }

  #pump(): void {
    while (this.#batches < PUSH_BATCHES) {
      const batch: [string, TWaiter][] = [];
      for (const [hostId, next] of this.#waiting) {
        if (batch.length >= PUSH_BATCH_HOSTS) break;
        if (!this.#running.has(hostId)) batch.push([hostId, next]);
      }
      if (batch.length === 0) return;
      const hostIds = batch.map(([hostId]) => hostId);
      for (const hostId of hostIds) {
        this.#waiting.delete(hostId);
        this.#running.add(hostId);
      }
      this.#batches++;
      void this.desired
        .pushDesiredMany(hostIds)
        .then(
          () => {
            for (const hostId of hostIds) this.#failures.delete(hostId);
          },
          (error: unknown) => {
            for (const hostId of hostIds) this.#retryLater(hostId, error);
          },
        )
        .finally(() => {
          this.#batches--;
          for (const [hostId, next] of batch) {
            this.#running.delete(hostId);
            next.done();
          }
          this.#pump();
        });
    }
  }

  /**
   * A failed push rolled its generation back, so neither the agent nor the
   * replicas' comparison would notice the set it missed until the host's next
   * change or welcome: it is tried again, later each time, a few times.
   */
  #retryLater(hostId: string, error: unknown): void {
    const failures = (this.#failures.get(hostId) ?? 0) + 1;
    if (failures > PUSH_RETRIES) {
      this.#failures.delete(hostId);
      this.log.warn(
        { err: error, hostId },
        "pushing a desired set failed; the host gets it at its next welcome",
      );
      return;
    }
    this.#failures.set(hostId, failures);
    this.log.warn({ err: error, hostId, failures }, "pushing a desired set failed; trying again");
    setTimeout(() => void this.push(hostId), PUSH_RETRY_BASE_MS * 2 ** (failures - 1)).unref();
  }
}

const pushers = new WeakMap<DesiredStatePusher, CoalescingPusher>();

function pusherFor(deps: PlacementDeps): CoalescingPusher {
  let pusher = pushers.get(deps.desired);
  if (!pusher) {
    pusher = new CoalescingPusher(deps.desired, deps.log);
    pushers.set(deps.desired, pusher);
  }
  return pusher;
}
