// Sending a host's desired set on its live connection. Rows the protocol would
// refuse are left out and reported (log and event) rather than sent; a set too
// large for one frame is not sent at all, since a cut set would make the agent
// remove the rest. A session whose host was taken over by a newer connection
// (its epoch no longer the row's) sends nothing: the holder sends instead.
import type { Logger } from "pino";
import type { PrismaClient } from "../db/client";
import { recordEvent } from "../events/record-event";
import type { AgentSession } from "./agent-session";
import type { BackgroundWork } from "./background-work";
import { readDesiredSnapshot, type TDesiredSnapshot, takeDesiredSnapshot } from "./desired-state";
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
  /** The session's epoch is no longer its host's: a newer connection holds the host (here or elsewhere). */
  stale(session: AgentSession): void;
}

/**
 * Sends the session's host its desired set: by default under a new generation
 * (a change made here); with `bump: false` at the generation the row has (a
 * change made on another replica, which raised it already).
 */
export type DesiredSender = (
  session: AgentSession,
  options?: { bump?: boolean },
) => Promise<PushDesiredResult>;

/** Sends a snapshot already taken (`bumped`: under a generation raised for it) on the session. */
export type DesiredDelivery = (
  session: AgentSession,
  snapshot: TDesiredSnapshot,
  options: { bumped: boolean },
) => PushDesiredResult;

export function createDesiredSender(deps: DesiredSenderDeps): {
  send: DesiredSender;
  deliver: DesiredDelivery;
} {
  const { db, bus, log, background } = deps;
  const deliver: DesiredDelivery = (session, snapshot, { bumped }) => {
    if (snapshot.connectionEpoch !== session.epoch) {
      deps.stale(session);
      return { generation: snapshot.generation, sent: false, containers: snapshot.containers.length };
    }
    const result = { generation: snapshot.generation, sent: false, containers: snapshot.containers.length };
    // Nothing new at this generation for this session (two wake-ups for one change).
    if (!bumped && snapshot.generation <= session.lastSnapshotGeneration) return result;
    if (snapshot.generation > session.lastSnapshotGeneration)
      session.lastSnapshotGeneration = snapshot.generation;
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
  const send: DesiredSender = async (session, options) => {
    const bumped = options?.bump !== false;
    const snapshot = await (bumped ? takeDesiredSnapshot : readDesiredSnapshot)({
      db,
      hostId: session.hostId,
    });
    if (!snapshot) return { generation: null, sent: false, containers: 0 };
    return deliver(session, snapshot, { bumped });
  };
  return { send, deliver };
}
