// A single-use, short-lived token for one new host to join with; the gateway
// redeems it. Only its hash is stored.
import type { TLabels } from "@fleet/shared/label-selector";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import { generateToken, hashToken } from "../../tokens";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
import type { TAgentEndpoint } from "./agent-endpoint";
import { joinCommand } from "./join-command";

export const JOIN_TOKEN_DEFAULT_TTL = "1h";
export const JOIN_TOKEN_MIN_TTL_MS = 60_000;
export const JOIN_TOKEN_MAX_TTL_MS = 7 * 24 * 60 * 60_000;

export interface TCreatedJoinToken {
  id: string;
  token: string;
  expiresAt: Date;
  labels: TLabels;
  /** The exact line to run on the new host. */
  command: string;
}

export async function createJoinToken(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  now: Date;
  createdById: string;
  ttlMs: number;
  labels: TLabels;
  /** Where hosts reach the agent port, and the pin of its key (null: hosts validate its certificate). */
  agentEndpoint: TAgentEndpoint;
}): Promise<TCreatedJoinToken> {
  const { db, bus, caller, now, createdById, ttlMs, labels, agentEndpoint } = options;
  const token = generateToken("join");
  const expiresAt = new Date(now.getTime() + ttlMs);
  const { row, event } = await db.$transaction(async (tx) => {
    const row = await tx.joinToken.create({
      data: { tokenHash: hashToken(token), createdById, createdAt: now, expiresAt, labels },
      select: { id: true },
    });
    const event = await recordAuditEvent({
      db: tx,
      kind: "audit.join-token.created",
      ...caller,
      target: { joinTokenId: row.id, expiresAt: expiresAt.toISOString(), labels },
      ts: now,
    });
    return { row, event };
  });
  bus.publish("event", event);
  return {
    id: row.id,
    token,
    expiresAt,
    labels,
    command: joinCommand({ agentUrl: agentEndpoint.publicUrl, pin: agentEndpoint.pin, token, labels }),
  };
}
