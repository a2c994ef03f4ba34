// Input pieces several procedures share.
import { formatDuration, parseDuration } from "@fleet/shared/units";
import { z } from "zod";

/** A row id as the database hands them out (UUIDv7) or as the gateway assigns host ids. */
export const ZRowId = z
  .string()
  .trim()
  .min(1)
  .max(64)
  // No id has them, and Postgres refuses a NUL in text: say so instead of failing the query.
  .regex(/^\P{Cc}*$/u, { error: "must not contain control characters" });

/**
 * A row id as this API hands them out (UUIDs, host ids): Postgres refuses
 * text with NUL characters, so anything else is refused here as BAD_REQUEST
 * instead of failing in the query.
 */
export const ZId = ZRowId.regex(/^[A-Za-z0-9_-]+$/, { error: "must be an id this API handed out" });

/** Free text to search for, without the NUL characters Postgres cannot hold. */
export function ZSearchText(maxLength: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(maxLength)
    .refine((text) => !text.includes("\0"), { error: "must not contain NUL characters" });
}

/** `30m`, `1h`, `7d` → milliseconds, within bounds. */
export function ZDurationText(bounds: { minMs: number; maxMs: number }) {
  return z
    .string()
    .trim()
    .min(1)
    .max(32)
    .transform((text, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
        return z.NEVER;
      }
      if (ms < bounds.minMs || ms > bounds.maxMs) {
        ctx.addIssue({
          code: "custom",
          message: `must be between ${formatDuration(bounds.minMs)} and ${formatDuration(bounds.maxMs)}, got ${text}`,
        });
        return z.NEVER;
      }
      return ms;
    });
}
