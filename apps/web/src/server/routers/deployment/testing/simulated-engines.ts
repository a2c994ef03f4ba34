// Fake agents whose "engines" run whatever their desired set holds and report
// each container's state and health as a test says, from the container's
// spec: enough for rollouts to see replacements start, turn healthy or not.
import type { TContainerHealth } from "@fleet/shared/domain/container-spec";
import type { TDesiredFrame } from "@fleet/shared/protocol/server-to-agent";
import type { FakeAgent } from "@fleet/test/harness/fake-agent";
import { latestDesired } from "../../../services/placement/testing/test-fleet";

export type TDesiredContainer = TDesiredFrame["containers"][number];
export interface TSimulatedStatus {
  state: "running" | "exited" | "crashloop";
  health: TContainerHealth | null;
  message?: string | null;
}

export interface SimulatedEngines {
  /** Agents may be swapped (after a reconnect the same objects keep working). */
  stop(): void;
}

export function simulateEngines(
  agents: readonly FakeAgent[],
  behave: (container: TDesiredContainer) => TSimulatedStatus,
  intervalMs = 30,
): SimulatedEngines {
  const sent = new Map<string, string>();
  const startedAt = new Map<string, string>();
  const timer = setInterval(() => {
    for (const agent of agents) {
      if (!agent.isOpen()) continue;
      const desired = latestDesired(agent);
      for (const container of desired?.containers ?? []) {
        const status = behave(container);
        const key = JSON.stringify(status);
        if (sent.get(container.id) === key) continue;
        if (!startedAt.has(container.id)) startedAt.set(container.id, new Date().toISOString());
        try {
          agent.sendStatus({
            containerId: container.id,
            state: status.state,
            health: status.state === "running" ? status.health : null,
            healthMessage: status.health === "unhealthy" ? (status.message ?? "check failed") : null,
            message: status.state === "running" ? null : (status.message ?? null),
            exitCode: status.state === "running" ? null : 1,
            startedAt: startedAt.get(container.id) ?? null,
          });
          sent.set(container.id, key);
        } catch {
          // The socket closed under us (a central going away); the next tick tries again.
        }
      }
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
    },
  };
}
