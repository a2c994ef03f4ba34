// Identifiers that cross the wire. Bounded and restricted to characters that
// are safe in engine labels, URLs and log lines.
import { z } from "zod";

/** A container's id in Fleet (not the engine's id): lowercase letters, digits and `-`. */
export const ZContainerId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9-]+$/, { error: "must be lowercase letters, digits or '-'" });
export type TContainerId = z.infer<typeof ZContainerId>;

/** A host's id as the central assigns it. */
export const ZHostId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, { error: "must be letters, digits, '_' or '-'" });
export type THostId = z.infer<typeof ZHostId>;

/** The engine's own container id (64 hex for docker and podman; bounded loosely for other engines). */
export const ZEngineContainerId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, { error: "must be letters, digits, '_', '.' or '-'" });

/** Epoch milliseconds. */
export const ZEpochMs = z.int().nonnegative();
