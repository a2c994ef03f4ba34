// The lifecycle of a managed container as the agent observes it, and the
// state the central wants it in. Browser-safe.
import { z } from "zod";

export const ZContainerState = z.enum([
  /** Desired, not yet created. */
  "pending",
  "pulling",
  "creating",
  "running",
  /** Exited and waiting out the restart backoff. */
  "restarting",
  /** Restarting too often; the agent backs off for longer. */
  "crashloop",
  "exited",
  /** Stopped on purpose (desired state `stopped`). */
  "stopped",
  /** Could not be pulled, created or started; the status message says why. */
  "failed",
  "removed",
]);
export type TContainerState = z.infer<typeof ZContainerState>;

export const ZDesiredState = z.enum(["running", "stopped", "removed"]);
export type TDesiredState = z.infer<typeof ZDesiredState>;

/**
 * What an agent is told about a container it holds: keep it running, or keep
 * it stopped (still on the host, exited, its logs readable) until told to run
 * it again. `removed` is never sent: a removed container is left out of the set.
 */
export const ZDesiredRunState = ZDesiredState.extract(["running", "stopped"]);
export type TDesiredRunState = z.infer<typeof ZDesiredRunState>;

/** States in which the container's process is, or is about to be, consuming the host. */
export const ACTIVE_CONTAINER_STATES: readonly TContainerState[] = [
  "pulling",
  "creating",
  "running",
  "restarting",
];
