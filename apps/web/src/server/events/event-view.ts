// An Event row as the API shows it: the id as a decimal string (it is a
// BigInt in the database; strings survive JSON and sort as the API needs),
// and the filter both the list and the live stream apply.
import { AUDIT_KIND_PREFIX, isAuditKind } from "@fleet/shared/domain/audit";
import type { TEventSeverity } from "@fleet/shared/domain/event";
import type { Prisma } from "../db/client";

export const eventViewSelect = {
  id: true,
  ts: true,
  kind: true,
  severity: true,
  hostId: true,
  containerId: true,
  deploymentId: true,
  message: true,
  data: true,
} satisfies Prisma.EventSelect;

export type TEventRow = Prisma.EventGetPayload<{ select: typeof eventViewSelect }>;

export interface TEventView {
  id: string;
  ts: Date;
  kind: string;
  severity: TEventSeverity;
  hostId: string | null;
  containerId: string | null;
  deploymentId: string | null;
  message: string;
  data: unknown;
}

export function toEventView(row: TEventRow): TEventView {
  return {
    id: row.id.toString(),
    ts: row.ts,
    kind: row.kind,
    severity: row.severity,
    hostId: row.hostId,
    containerId: row.containerId,
    deploymentId: row.deploymentId,
    message: row.message,
    data: row.data,
  };
}

export interface TEventFilter {
  /** `container.` matches `container.oom`, `container.exit`, … */
  kindPrefix?: string;
  hostId?: string;
  containerId?: string;
  deploymentId?: string;
  severity?: TEventSeverity[];
  since?: Date;
  /**
   * Audit events (`audit.…`) name people and addresses: only administrators'
   * reads set this. Without it they are left out, whatever else is asked.
   */
  includeAudit?: boolean;
}

export function eventWhere(filter: TEventFilter): Prisma.EventWhereInput {
  return {
    AND: [
      ...(filter.kindPrefix ? [{ kind: { startsWith: filter.kindPrefix } }] : []),
      ...(filter.includeAudit ? [] : [{ NOT: { kind: { startsWith: AUDIT_KIND_PREFIX } } }]),
    ],
    ...(filter.hostId ? { hostId: filter.hostId } : {}),
    ...(filter.containerId ? { containerId: filter.containerId } : {}),
    ...(filter.deploymentId ? { deploymentId: filter.deploymentId } : {}),
    ...(filter.severity && filter.severity.length > 0 ? { severity: { in: filter.severity } } : {}),
    ...(filter.since ? { ts: { gte: filter.since } } : {}),
  };
}

/** The same filter as `eventWhere`, for rows that arrive on the bus. */
export function matchesEventFilter(filter: TEventFilter, row: TEventRow): boolean {
  if (!filter.includeAudit && isAuditKind(row.kind)) return false;
  if (filter.kindPrefix && !row.kind.startsWith(filter.kindPrefix)) return false;
  if (filter.hostId && row.hostId !== filter.hostId) return false;
  if (filter.containerId && row.containerId !== filter.containerId) return false;
  if (filter.deploymentId && row.deploymentId !== filter.deploymentId) return false;
  if (filter.severity && filter.severity.length > 0 && !filter.severity.includes(row.severity)) return false;
  if (filter.since && row.ts.getTime() < filter.since.getTime()) return false;
  return true;
}

const MAX_EVENT_ID = 2n ** 63n - 1n;

/** `"123"` → 123n; null for anything that is not a non-negative decimal id Postgres can hold. */
export function parseEventId(text: string | null | undefined): bigint | null {
  if (!text || !/^\d{1,19}$/.test(text)) return null;
  const id = BigInt(text);
  // Nineteen digits reach past Postgres's bigint (2^63 - 1): the query would fail.
  return id <= MAX_EVENT_ID ? id : null;
}
