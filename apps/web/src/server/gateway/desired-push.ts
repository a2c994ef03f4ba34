// Sending a host's desired set on its live connection. Rows the protocol would
// refuse are left out and reported (log and event) rather than sent; a set too
// large for one frame is not sent at all, since a cut set would make the agent
// remove the rest.
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import { recordEvent } from "../events/record-event";
import type { AgentSession } from "./agent-session";
import type { BackgroundWork } from "./background-work";
import { takeDesiredSnapshot } from "./desired-state";
import type { GatewayBus } from "./gateway-options";

export interface PushDesiredResult {
  /** The generation the host's desired set now has (null: no such host). */
  generation: number | null;
  /** Whether it went out on a live connection (otherwise it goes out at the next welcome). */
  sent: boolean;
  containers: number;
}

export interface DesiredSenderDeps {
  db: PrismaClient;
  bus: GatewayBus;
  log: Logger;
  background: BackgroundWork;
}

export type DesiredSender = (session: AgentSession) => Promise<PushDesiredResult>;

export function createDesiredSender(deps: DesiredSenderDeps): DesiredSender {
  const { db, bus, log, background } = deps;
  return async (session) => {
    const snapshot = await takeDesiredSnapshot({ db, hostId: session.hostId });
    if (!snapshot) return { generation: null, sent: false, containers: 0 };
    for (const invalid of snapshot.invalid) {
      log.error(
        { hostId: session.hostId, ...invalid },
        "container left out of the desired set: invalid spec",
      );
      background.track(
        recordEvent({
          db,
          bus,
          kind: "container.invalid-spec",
          severity: "error",
          hostId: session.hostId,
          containerId: invalid.containerId,
          message: `container ${invalid.name} cannot be sent to its host: ${invalid.error}`,
        }),
        "recording an invalid spec",
      );
    }
    const result = { generation: snapshot.generation, sent: false, containers: snapshot.containers.length };
    if (snapshot.tooMany) {
      // A cut set would make the agent remove the rest; keep the last one it has.
      log.error({ hostId: session.hostId }, "desired set exceeds one frame; not sent");
      return result;
    }
    // Two pushes may finish out of order; the agent must never see a generation go down.
    if (session.closed || session.replaced || snapshot.generation <= session.lastSentGeneration)
      return result;
    const sent = session.send({
      type: "desired",
      generation: snapshot.generation,
      containers: snapshot.containers,
      bindMountPrefixes: snapshot.bindMountPrefixes,
    });
    if (sent) session.lastSentGeneration = snapshot.generation;
    return { ...result, sent };
  };
}
