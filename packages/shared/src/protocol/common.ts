// Pieces both directions of the protocol share.
import { z } from "zod";

export const MAX_MESSAGE_LENGTH = 4 * 1024;

/** Ids the two ends make up for operations, uploads and batches. */
export const ZWireId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, { error: "must be 1-64 letters, digits, '_' or '-'" });

export const ZMessage = z.string().max(MAX_MESSAGE_LENGTH);

export const ZFrameErrorCode = z.enum([
  /** The frame was too large, not JSON or did not match the schema. */
  "bad_frame",
  /** Understood but not supported by this peer (e.g. an unknown operation). */
  "unsupported",
  /** Bad join token or host credential. */
  "unauthorized",
  /** The peers speak different protocol versions. */
  "version_mismatch",
  /** Another connection already holds this host. */
  "conflict",
  "rate_limited",
  "internal",
]);
export type TFrameErrorCode = z.infer<typeof ZFrameErrorCode>;

export const ZErrorFrame = z.object({
  type: z.literal("error"),
  code: ZFrameErrorCode,
  message: ZMessage,
  /** What the error is about: a frame type, an operation id, … */
  ref: z.string().max(128).optional(),
});
export type TErrorFrame = z.infer<typeof ZErrorFrame>;
