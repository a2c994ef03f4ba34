import { EVENT_SEVERITIES } from "@fleet/shared/domain/event";
import { z } from "zod";
import { ZRowId } from "../common-schemas";

export const ZEventSeverity = z.enum(EVENT_SEVERITIES);

export const ZEvent = z.object({
  /** Decimal; later events have larger ids. */
  id: z.string(),
  ts: z.date(),
  /** Dotted, e.g. `container.oom`, `image.pulled`, `host.offline`. */
  kind: z.string(),
  severity: ZEventSeverity,
  hostId: z.string().nullable(),
  containerId: z.string().nullable(),
  deploymentId: z.string().nullable(),
  message: z.string(),
  data: z.unknown(),
});

/** What both `event.list` and `event.stream` filter on. */
export const ZEventFilter = z.object({
  /**
   * `container.` keeps `container.oom`, `container.exit`, …; `audit.` keeps
   * the audit log (who changed access, refused sign-ins), which only
   * administrators see: for anyone else those events are never listed.
   */
  kindPrefix: z.string().trim().min(1).max(128).optional(),
  hostId: ZRowId.optional(),
  containerId: ZRowId.optional(),
  deploymentId: ZRowId.optional(),
  /** One severity or several. */
  severity: z
    .union([ZEventSeverity, z.array(ZEventSeverity).min(1).max(EVENT_SEVERITIES.length)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional(),
  since: z.date().optional(),
});
