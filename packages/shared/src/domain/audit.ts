// The audit log: who changed access, what they changed, and from which
// address. Audit events are rows of the event log whose kind starts with
// `audit.`; they name people and addresses, so only administrators see them.
// Their `data` is ZAuditEventData, a strict shape with no room for a secret:
// tokens, passwords and their hashes never reach it. Browser-safe.
import { z } from "zod";
import { ZUserRole } from "./roles";

export const AUDIT_KIND_PREFIX = "audit.";

export const ZAuditEventKind = z.enum([
  "audit.user.created",
  "audit.user.role-changed",
  "audit.user.email-changed",
  "audit.user.password-changed",
  "audit.user.disabled",
  "audit.user.enabled",
  "audit.user.removed",
  "audit.api-token.created",
  "audit.api-token.revoked",
  "audit.join-token.created",
  /** Wrong email or password, or a disabled account. */
  "audit.sign-in.failed",
  /** Refused without checking the password: too many failures for the account or the address. */
  "audit.sign-in.throttled",
]);
export type TAuditEventKind = z.infer<typeof ZAuditEventKind>;

export function isAuditKind(kind: string): boolean {
  return kind.startsWith(AUDIT_KIND_PREFIX);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// Some of this text is whatever a caller typed (the email of a failed
// sign-in): it is cut to length and cleaned of what Postgres cannot store
// (NUL, unpaired surrogates in jsonb) rather than refused, so recording an
// attempt can never make the attempt itself fail.
function ZText(maxLength: number) {
  return z
    .string()
    .transform((text) => text.replaceAll("\u0000", "").replace(LONE_SURROGATE, "\ufffd").slice(0, maxLength));
}

/** Who did it; null in the data when nobody was signed in (a failed sign-in). */
export const ZAuditActor = z.strictObject({
  userId: ZText(320),
  email: ZText(320),
  /** How the actor was signed in: the dashboard's session, or an API token (named by id, never by secret). */
  via: z.enum(["session", "apiToken"]).optional(),
  apiTokenId: ZText(320).optional(),
});
export type TAuditActor = z.infer<typeof ZAuditActor>;

/** What was acted on; each kind fills the fields that apply to it. */
export const ZAuditTarget = z.strictObject({
  userId: ZText(320).optional(),
  email: ZText(320).optional(),
  previousEmail: ZText(320).optional(),
  role: ZUserRole.optional(),
  previousRole: ZUserRole.optional(),
  apiTokenId: ZText(320).optional(),
  apiTokenName: ZText(320).optional(),
  /** The display prefix lists show ("fleet_api_AbC1…"), not the token. */
  apiTokenPrefix: ZText(320).optional(),
  joinTokenId: ZText(320).optional(),
  /** ISO 8601; null: never expires. */
  expiresAt: z.iso.datetime().nullable().optional(),
  labels: z.record(z.string(), z.string()).optional(),
});
export type TAuditTarget = z.infer<typeof ZAuditTarget>;

export const ZAuditEventData = z.strictObject({
  actor: ZAuditActor.nullable(),
  /** The caller's network address as the central saw it (see FLEET_TRUST_PROXY). */
  clientAddress: ZText(64),
  target: ZAuditTarget,
  /** A few words on why, where the kind alone does not say (e.g. "account disabled"). */
  reason: ZText(200).optional(),
  /** For throttled sign-ins: how long until the next attempt is allowed. */
  retryAfterMs: z.int().nonnegative().optional(),
});
export type TAuditEventData = z.infer<typeof ZAuditEventData>;

function labelList(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`);
  return pairs.length > 0 ? ` with labels ${pairs.join(", ")}` : "";
}

/** The event's message: who did what, and from where, in one line a person reads. */
export function describeAuditEvent(kind: TAuditEventKind, data: TAuditEventData): string {
  const { actor, target } = data;
  const who = actor?.email ?? "someone";
  const user = target.email ?? target.userId ?? "a user";
  const own = actor !== null && target.userId !== undefined && actor.userId === target.userId;
  const token = `"${target.apiTokenName ?? target.apiTokenId ?? "?"}"${target.apiTokenPrefix ? ` (${target.apiTokenPrefix})` : ""}`;
  const what = ((): string => {
    switch (kind) {
      case "audit.user.created":
        return `${who} created the user ${user}${target.role ? ` with the role ${target.role}` : ""}`;
      case "audit.user.role-changed":
        return `${who} changed the role of ${user} from ${target.previousRole ?? "?"} to ${target.role ?? "?"}`;
      case "audit.user.email-changed":
        return `${who} changed the email of ${target.previousEmail ?? "?"} to ${user}`;
      case "audit.user.password-changed":
        return own ? `${who} changed their own password` : `${who} changed the password of ${user}`;
      case "audit.user.disabled":
        return `${who} disabled the account of ${user}`;
      case "audit.user.enabled":
        return `${who} enabled the account of ${user}`;
      case "audit.user.removed":
        return `${who} removed the user ${user}`;
      case "audit.api-token.created": {
        const expiry =
          target.expiresAt === undefined
            ? ""
            : target.expiresAt === null
              ? ", never expiring"
              : `, expiring ${target.expiresAt}`;
        return `${who} created the API token ${token} for ${own ? "themselves" : user}${expiry}`;
      }
      case "audit.api-token.revoked":
        return own
          ? `${who} revoked their API token ${token}`
          : `${who} revoked the API token ${token} of ${user}`;
      case "audit.join-token.created":
        return `${who} created a join token${target.expiresAt ? ` valid until ${target.expiresAt}` : ""}${labelList(target.labels)}`;
      case "audit.sign-in.failed":
        return `sign-in as ${user} failed${data.reason ? `: ${data.reason}` : ""}`;
      case "audit.sign-in.throttled": {
        const wait =
          data.retryAfterMs === undefined ? "" : ` for ${Math.ceil(data.retryAfterMs / 60_000)} min`;
        return `sign-in as ${user} refused${wait}: ${data.reason ?? "too many failed attempts"}`;
      }
    }
  })();
  return `${what} — from ${data.clientAddress}`;
}
