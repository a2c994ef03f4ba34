// What follows a placement commit. Nothing here may run inside the
// transaction: an agent must never receive a desired set the database could
// still roll back, and the bus must never announce a row that does not exist.
import type { EventBus } from "../../events/event-bus";
import type { TEventRow } from "../../events/event-view";
import type { Logger } from "../../logger";

/** The part of the gateway placement needs (the real one is `Gateway.pushDesired`). */
export interface DesiredStatePusher {
  pushDesired(hostId: string): Promise<unknown>;
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

function publishEffects(bus: EventBus, effects: PlacementEffects): void {
  for (const event of effects.events) bus.publish("event", event);
  for (const change of effects.changedContainers) bus.publish("container.changed", change);
  for (const hostId of effects.changedHosts) bus.publish("host.changed", { hostId });
}

/**
 * Publishes what changed and pushes each affected host's desired set. A push
 * that fails is logged, not thrown: the rows are committed, and the host gets
 * the same set at its next welcome (desired state is level-triggered).
 */
export async function applyPlacementEffects(deps: PlacementDeps, effects: PlacementEffects): Promise<void> {
  const { bus, desired, log } = deps;
  publishEffects(bus, effects);
  await Promise.all([...effects.hostsToPush].map((hostId) => pushLogged(desired, log, hostId)));
}

function pushLogged(desired: DesiredStatePusher, log: Logger, hostId: string): Promise<void> {
  return desired.pushDesired(hostId).then(
    () => {},
    (error: unknown) => {
      log.warn({ err: error, hostId }, "pushing a desired set failed; the host gets it at its next welcome");
    },
  );
}

/**
 * Pushes at most this many desired sets at once: each is a transaction on a
 * pooled connection, and placements need connections too.
 */
const PUSH_CONCURRENCY = 4;

/**
 * Background pushes for placements made at a high rate: one push in flight
 * per host, and a host changed while its push runs is pushed once more after
 * it (a push reads the whole set when it starts, so one more carries every
 * change made meanwhile). Pending work is bounded by the number of hosts.
 */
class CoalescingPusher {
  readonly #waiting = new Set<string>();
  readonly #running = new Set<string>();

  constructor(
    readonly desired: DesiredStatePusher,
    readonly log: Logger,
  ) {}

  push(hostId: string): void {
    this.#waiting.add(hostId);
    this.#pump();
  }

  #pump(): void {
    for (const hostId of this.#waiting) {
      if (this.#running.size >= PUSH_CONCURRENCY) return;
      if (this.#running.has(hostId)) continue;
      this.#waiting.delete(hostId);
      this.#running.add(hostId);
      void pushLogged(this.desired, this.log, hostId).finally(() => {
        this.#running.delete(hostId);
        this.#pump();
      });
    }
  }
}

const pushers = new WeakMap<DesiredStatePusher, CoalescingPusher>();

/**
 * Publishes what changed at once and leaves the desired-set pushes to run in
 * the background, coalesced per host: the caller answers as soon as the rows
 * are committed, and the agents hear of them moments later.
 */
export function applyPlacementEffectsInBackground(deps: PlacementDeps, effects: PlacementEffects): void {
  publishEffects(deps.bus, effects);
  let pusher = pushers.get(deps.desired);
  if (!pusher) {
    pusher = new CoalescingPusher(deps.desired, deps.log);
    pushers.set(deps.desired, pusher);
  }
  for (const hostId of effects.hostsToPush) pusher.push(hostId);
}
