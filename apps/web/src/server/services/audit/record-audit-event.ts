// The audit log's one writer: every change to who may do what, and every
// refused sign-in, becomes an `audit.…` event (see @fleet/shared/domain/audit)
// naming the actor, the client address and the target, never a secret.
// Services that change access call it inside their transaction and publish
// the stored event after the commit, so a change and its record stand or
// fall together.
import {
  describeAuditEvent,
  type TAuditActor,
  type TAuditEventKind,
  type TAuditTarget,
  ZAuditEventData,
} from "@fleet/shared/domain/audit";
import type { TEventSeverity } from "@fleet/shared/domain/event";
import type { Prisma, PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import type { TEventRow } from "../../events/event-view";
import { recordEvent } from "../../events/record-event";
import type { TAuth } from "../auth/auth-user";

/** Who asks for a change and from where: what every audited service takes from its procedure. */
export interface TAuditCaller {
  /** null: nobody signed in. */
  actor: TAuditActor | null;
  clientAddress: string;
}

/** The audit caller of a tRPC context (or anything with the same two fields). */
export function auditCallerOf(context: {
  auth: Pick<TAuth, "user" | "via" | "apiTokenId"> | null;
  clientAddress: string;
}): TAuditCaller {
  const { auth, clientAddress } = context;
  if (!auth) return { actor: null, clientAddress };
  return {
    actor: {
      userId: auth.user.id,
      email: auth.user.email,
      via: auth.via,
      ...(auth.apiTokenId ? { apiTokenId: auth.apiTokenId } : {}),
    },
    clientAddress,
  };
}

export interface RecordAuditEventOptions {
  db: PrismaClient | Prisma.TransactionClient;
  /** Publishes the event at once. Omit inside a transaction and publish the result after it commits. */
  bus?: Pick<EventBus, "publish"> | undefined;
  kind: TAuditEventKind;
  actor: TAuditActor | null;
  clientAddress: string;
  target?: TAuditTarget;
  /** A few words on why (e.g. "wrong email or password", "account disabled"). */
  reason?: string;
  /** For audit.sign-in.throttled: how long until the next attempt is allowed. */
  retryAfterMs?: number;
  /** Default: composed from kind and data (who, what, from where). */
  message?: string;
  /** Default: warning for refused sign-ins, info otherwise. */
  severity?: TEventSeverity;
  ts?: Date;
}

export async function recordAuditEvent(options: RecordAuditEventOptions): Promise<TEventRow> {
  // Parsed so nothing outside the declared fields (a token, a password) can be stored.
  const data = ZAuditEventData.parse({
    actor: options.actor,
    clientAddress: options.clientAddress,
    target: options.target ?? {},
    ...(options.reason !== undefined ? { reason: options.reason } : {}),
    ...(options.retryAfterMs !== undefined ? { retryAfterMs: Math.ceil(options.retryAfterMs) } : {}),
  });
  const refusedSignIn = options.kind === "audit.sign-in.failed" || options.kind === "audit.sign-in.throttled";
  return recordEvent({
    db: options.db,
    bus: options.bus,
    kind: options.kind,
    severity: options.severity ?? (refusedSignIn ? "warning" : "info"),
    message: options.message ?? describeAuditEvent(options.kind, data),
    data,
    ...(options.ts ? { ts: options.ts } : {}),
  });
}
