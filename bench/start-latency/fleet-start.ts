/**
 * One start through the whole fleet, timed as a client sees it: from sending
 * `container.run` until the API says the container is `running`.
 *
 * How "running" is noticed: the agent records `container.start` on the same connection,
 * just before the `running` status, and the central handles one host's frames in order;
 * so the client awaits that event on its SSE stream (no polling while the agent works,
 * which would put extra load on the central being measured), then asks `container.get`
 * every few ms until the status shows `running`, usually once or twice. The end time is
 * when that answer arrived. The server's own `startLatencyMs` (request stored → running
 * status stored) is kept beside it.
 */
import { wallNow } from "./clock";
import type { FleetEventWatch } from "./fleet-events";
import type { FleetStack } from "./fleet-stack";
import { fleetContainerName, RUN_INPUT } from "./workload";

const RUNNING_TIMEOUT_MS = 60_000;
const CONFIRM_POLL_MS = 5;
const REMOVE_TIMEOUT_MS = 60_000;
/** States a starting container does not leave on its own. */
const GAVE_UP = new Set(["failed", "exited", "crashloop", "removed", "stopped"]);

export interface TFleetSample {
  containerId: string;
  engineId: string;
  sentAt: number;
  runReturnedAt: number;
  /** `container.start` as the agent stamped it, and when it reached the client. */
  agentStartTs: number;
  startEventArrivedAt: number;
  runningReportedAt: number;
  requestedAt: number;
  runningSeenAt: number;
  totalMs: number;
  serverStartLatencyMs: number;
  /** `container.get` calls after the event until one said `running`. */
  confirmCalls: number;
}

export async function startThroughFleet(
  stack: FleetStack,
  watch: FleetEventWatch,
  index: string,
): Promise<TFleetSample> {
  const { client } = stack;
  const sentAt = wallNow();
  const { container, placement } = await client.container.run.mutate({
    ...RUN_INPUT,
    command: [...RUN_INPUT.command],
    name: fleetContainerName(index),
  });
  const runReturnedAt = wallNow();
  if (placement.hostId !== stack.hostId) throw new Error(`placed on ${placement.hostId}, not the bench host`);
  const started = await watch.waitFor(container.id, "container.start", RUNNING_TIMEOUT_MS);
  const deadline = Date.now() + RUNNING_TIMEOUT_MS;
  let confirmCalls = 0;
  for (;;) {
    const { container: view } = await client.container.get.query({ id: container.id });
    confirmCalls++;
    if (view.actualState === "running") {
      const runningSeenAt = wallNow();
      if (view.engineId === null || view.runningReportedAt === null || view.startLatencyMs === null) {
        throw new Error(`container ${container.id} is running without engine id or start latency`);
      }
      return {
        containerId: container.id,
        engineId: view.engineId,
        sentAt,
        runReturnedAt,
        agentStartTs: started.ts,
        startEventArrivedAt: started.arrivedAt,
        runningReportedAt: view.runningReportedAt.getTime(),
        requestedAt: view.requestedAt.getTime(),
        runningSeenAt,
        totalMs: runningSeenAt - sentAt,
        serverStartLatencyMs: view.startLatencyMs,
        confirmCalls,
      };
    }
    if (GAVE_UP.has(view.actualState) || Date.now() > deadline) {
      throw new Error(
        `container ${container.id} is ${view.actualState} (${view.statusMessage ?? "no message"}), not running`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, CONFIRM_POLL_MS));
  }
}

/** Removes through the API and waits until the agent has reported each removal done. */
export async function removeThroughFleet(
  stack: FleetStack,
  watch: FleetEventWatch,
  containerIds: readonly string[],
): Promise<void> {
  await Promise.all(containerIds.map((id) => stack.client.container.remove.mutate({ id })));
  await Promise.all(containerIds.map((id) => watch.waitFor(id, "container.remove", REMOVE_TIMEOUT_MS)));
}
