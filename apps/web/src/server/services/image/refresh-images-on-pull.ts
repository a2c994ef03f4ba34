// A container's create pulls its image when the host lacks it, and the agent
// reports that with an `image.pulled` event: the host's stored images are
// refreshed then, so the Images page shows what hosts hold without asking
// every host on each visit. The event is the cheapest correct hook: a create
// that pulled nothing changed nothing, and one pull of a deployment's image
// on a host is one event however many replicas start there.
//
// Pulls and builds through the API refresh their hosts themselves (their
// events carry `by`, the person who asked); removals likewise. Only the
// replica that holds the host's connection refreshes it (every replica sees
// the event on the bridged bus). Refreshes of one host never overlap: events
// arriving while one runs make one more run after it.
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { refreshHostImages } from "./refresh-images";

export function refreshImagesOnPull(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "subscribe">;
  /** The local gateway: only hosts connected to this replica are refreshed here. */
  gateway: Pick<AgentOperations, "request"> & { isConnected(hostId: string): boolean };
  log: Pick<Logger, "info">;
  now: () => Date;
}): () => void {
  const { db, gateway, log, now } = options;
  const running = new Set<string>();
  const again = new Set<string>();

  const refresh = (hostId: string) => {
    if (running.has(hostId)) {
      again.add(hostId);
      return;
    }
    running.add(hostId);
    refreshHostImages({ db, gateway, hostId, now })
      .catch((error: unknown) =>
        log.info({ hostId, err: error }, "refreshing a host's images after a pull it reported failed"),
      )
      .finally(() => {
        running.delete(hostId);
        if (again.delete(hostId)) refresh(hostId);
      });
  };

  return options.bus.subscribe("event", (event) => {
    if (event.kind !== "image.pulled" || event.hostId === null) return;
    const data = event.data;
    if (data !== null && typeof data === "object" && "by" in data) return;
    if (!gateway.isConnected(event.hostId)) return;
    refresh(event.hostId);
  });
}
