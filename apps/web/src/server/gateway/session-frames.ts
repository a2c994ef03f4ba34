// What a welcomed connection's frames do: acks and heartbeats move the host's
// acknowledged generation, statuses and events become rows, metrics go to the
// metrics service, operation frames to the broker. Frames arrive here one at a
// time per connection, in order (agent-session.ts), so a status never
// overtakes the one before it. What they write for the host is fenced by the
// connection's epoch (desired-state.ts, container-status.ts): once a newer
// connection of the host was welcomed anywhere, this one writes nothing.
// Frames that write rows take their turn across all connections
// (CONCURRENT_FRAME_WRITES at once): after a restart every agent resends every
// container's status, and the hellos still waiting need connections too.
import type { Clock } from "@fleet/shared/clock";
import type { TAgentFrame, THelloFrame } from "@fleet/shared/protocol/agent-to-server";
import pLimit from "p-limit";
import type { PrismaClient } from "../db/client";
import type { AgentSession } from "./agent-session";
import { applyContainerStatus, createStatusRowReader, recordAgentEvent } from "./container-status";
import { createAckRecorder } from "./desired-state";
import { CONCURRENT_FRAME_WRITES } from "./gateway-limits";
import type { GatewayBus, GatewayMetricsSink } from "./gateway-options";
import type { OpBroker } from "./op-broker";

export interface SessionFrameDeps {
  db: PrismaClient;
  bus: GatewayBus;
  metrics: GatewayMetricsSink;
  clock: Clock;
  broker: Pick<OpBroker, "handleProgress" | "handleResult">;
}

export function createSessionFrameHandler(deps: SessionFrameDeps) {
  const { db, bus, metrics, clock, broker } = deps;
  const admitWrite = pLimit(CONCURRENT_FRAME_WRITES);
  const readStatusRow = createStatusRowReader(db);
  const recordAck = createAckRecorder(db, admitWrite);

  return async function handleFrame(
    session: AgentSession,
    frame: Exclude<TAgentFrame, THelloFrame>,
  ): Promise<void> {
    const hostId = session.hostId;
    const now = new Date(clock.now());
    switch (frame.type) {
      case "heartbeat":
        // The heartbeat repeats the last ack: it heals a lost `ack` frame.
        if (frame.ackedGeneration !== null && frame.ackedGeneration > session.lastAckedGeneration) {
          const generation = frame.ackedGeneration;
          await recordAck({ hostId, generation, epoch: session.epoch });
          // Only once stored: a heartbeat retried after a failed write (db-retry.ts) writes it again.
          session.lastAckedGeneration = frame.ackedGeneration;
        }
        return;
      case "ack": {
        if (frame.generation > session.lastAckedGeneration) session.lastAckedGeneration = frame.generation;
        const { generation } = frame;
        const recorded = await recordAck({ hostId, generation, epoch: session.epoch });
        if (recorded) bus.publish("host.changed", { hostId });
        return;
      }
      case "container.status": {
        const outcome = await applyContainerStatus({
          db,
          bus,
          readRow: readStatusRow,
          admitWrite,
          hostId,
          epoch: session.epoch,
          frame,
          now,
        });
        if (outcome === "stale-connection") {
          session.log.info({ containerId: frame.containerId }, "status from a replaced connection ignored");
        } else if (outcome === "not-on-host") {
          session.log.debug(
            { containerId: frame.containerId },
            "status for a container not on this host ignored",
          );
        }
        return;
      }
      case "metrics":
        await metrics.ingest(hostId, frame);
        return;
      case "event": {
        const recorded = await admitWrite(() =>
          recordAgentEvent({ db, bus, hostId, epoch: session.epoch, frame, now }),
        );
        if (!recorded) {
          session.log.info({ kind: frame.kind }, "event from a replaced connection ignored");
        }
        return;
      }
      case "op.progress":
        broker.handleProgress(session.connectionId, frame);
        return;
      case "op.result":
        broker.handleResult(session.connectionId, frame);
        return;
      case "error":
        // No answer: two peers answering each other's errors would loop.
        session.log.warn(
          { code: frame.code, message: frame.message, ref: frame.ref },
          "agent reported an error",
        );
        return;
    }
  };
}
