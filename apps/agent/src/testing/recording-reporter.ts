/**
 * Collects what supervisors and the reconciler report, for assertions.
 */
import type { TContainerState } from "@fleet/shared/domain/container-state";
import type { TContainerStatusFrame, TEventFrame, TEventKind } from "@fleet/shared/protocol/agent-to-server";
import type { SupervisorReporter } from "../supervisor/container-supervisor";

export class RecordingReporter implements SupervisorReporter {
  readonly statuses: TContainerStatusFrame[] = [];
  readonly events: TEventFrame[] = [];

  status(frame: TContainerStatusFrame): void {
    this.statuses.push(frame);
  }

  event(frame: TEventFrame): void {
    this.events.push(frame);
  }

  statesOf(containerId: string): TContainerState[] {
    return this.statuses.filter((s) => s.containerId === containerId).map((s) => s.state);
  }

  lastStatus(containerId: string): TContainerStatusFrame | undefined {
    return this.statuses.filter((s) => s.containerId === containerId).at(-1);
  }

  eventKinds(containerId?: string): TEventKind[] {
    return this.events
      .filter((e) => containerId === undefined || e.containerId === containerId)
      .map((e) => e.kind);
  }

  clear(): void {
    this.statuses.length = 0;
    this.events.length = 0;
  }
}
