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

/**
 * Publishes what changed and pushes each affected host's desired set. A push
 * that fails is logged, not thrown: the rows are committed, and the host gets
 * the same set at its next welcome (desired state is level-triggered).
 */
export async function applyPlacementEffects(deps: PlacementDeps, effects: PlacementEffects): Promise<void> {
  const { bus, desired, log } = deps;
  for (const event of effects.events) bus.publish("event", event);
  for (const change of effects.changedContainers) bus.publish("container.changed", change);
  for (const hostId of effects.changedHosts) bus.publish("host.changed", { hostId });
  await Promise.all(
    [...effects.hostsToPush].map((hostId) =>
      desired.pushDesired(hostId).catch((error: unknown) => {
        log.warn(
          { err: error, hostId },
          "pushing a desired set failed; the host gets it at its next welcome",
        );
      }),
    ),
  );
}
