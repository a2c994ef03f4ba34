/**
 * The runtime contract: what the agent asks of a container engine, in three
 * parts as Nomad splits its driver plugins, so each consumer depends only on
 * the part it uses:
 *
 * - `ContainerDriver` (container-driver.ts): the containers' life, their
 *   events and logs, and the engine's fingerprint;
 * - `ImageStore` (image-store.ts): images pulled, built, pushed, listed and
 *   removed;
 * - `HostObjectStore` (host-object-store.ts): named objects on one host that
 *   containers use (volumes, networks), one contract parameterised by kind.
 *
 * Each engine is a folder implementing all three over one client (`engine/`
 * for the Docker Engine API, serving Docker and Podman; `fake/` in memory for
 * unit tests); `RuntimeDriver` is the bundle the wiring passes around. A driver
 * never decides policy (restarts, backoff, what should run): it does what it
 * is told and reports what happened. This file holds what the parts share.
 *
 * May import: @fleet/shared (domain schemas), node built-ins, the engine client.
 */
import type { ContainerDriver } from "./container-driver";
import type { HostObjectStore } from "./host-object-store";
import type { ImageStore } from "./image-store";

/** One engine's three parts, as the agent's wiring hands them out. */
export interface RuntimeDriver {
  /** Which engine this is ("docker", "podman", "fake"). */
  readonly name: string;
  readonly containers: ContainerDriver;
  readonly images: ImageStore;
  readonly hostObjects: HostObjectStore;
}

/** Labels every managed container carries; they are how the agent adopts containers after a restart. */
export const FLEET_LABELS = {
  containerId: "fleet.container-id",
  hostId: "fleet.host-id",
  specHash: "fleet.spec-hash",
  name: "fleet.name",
  managed: "fleet.managed",
} as const;

/**
 * What a driver throws. `code` is what callers branch on; `message` is the
 * engine's own words, fit to show to a person; `statusCode` is the engine's
 * HTTP status when there was one.
 */
export type DriverErrorCode =
  | "not-found"
  | "name-conflict"
  | "conflict"
  | "image-not-found"
  | "pull-failed"
  | "build-failed"
  | "push-failed"
  | "unavailable"
  /** A bind mount source is not (or no longer) the checked real path under an allowed prefix; see bind-sources.ts. */
  | "bind-mount-refused"
  | "engine";

export class DriverError extends Error {
  override readonly name: string = "DriverError";
  readonly code: DriverErrorCode;
  readonly statusCode: number | undefined;

  constructor(code: DriverErrorCode, message: string, opts?: { statusCode?: number; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.statusCode = opts?.statusCode;
  }
}

export function isDriverError(err: unknown, code?: DriverErrorCode): err is DriverError {
  return err instanceof DriverError && (code === undefined || err.code === code);
}
