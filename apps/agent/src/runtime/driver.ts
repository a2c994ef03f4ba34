/**
 * The runtime driver contract: everything the agent asks of a container engine.
 *
 * Shaped after Nomad's task driver: the supervisor and the reconciler only ever
 * talk to this interface, so they run unchanged against the Docker Engine API
 * driver (`engine/`, serving both Docker and Podman) and the in-memory fake
 * driver (`fake/`) used by unit tests. A driver never decides policy (restarts,
 * backoff, what should run): it does what it is told and reports what happened.
 *
 * May import: @fleet/shared (domain schemas), node built-ins, the engine client.
 */
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TPublishedPort } from "@fleet/shared/protocol/agent-to-server";

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

export interface DriverFingerprint {
  engine: { name: "docker" | "podman"; version: string; apiVersion: string };
  /** Host facts as the engine sees them. */
  cpus: number;
  memoryBytes: number;
  kernel: string;
  os: string;
  arch: string;
  /** Where the engine keeps its data (for disk-free figures). */
  dataRoot: string;
  cgroupVersion: 1 | 2;
}

/** A managed container as found in the engine. */
export interface ManagedContainer {
  engineId: string;
  containerId: string;
  hostId: string;
  specHash: string;
  name: string;
  running: boolean;
  /** Host pid of the container's init process while running, else null. */
  pid: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  /** What the engine says; Podman 4 always says false (the agent checks the kernel too). */
  oomKilled: boolean;
  imageId: string;
  /**
   * The image reference as the engine reports it: Podman qualifies short names
   * (`docker.io/team/app:1`), so compare with `normalizeImageRef`.
   */
  image: string;
  /** All labels on the container, Fleet's and the spec's. */
  labels: Record<string, string>;
  /**
   * The registry digest of the image the container runs (from the image's
   * RepoDigests for the container's repository), or null when the image has
   * none for it or several and the engine cannot say which.
   */
  imageDigest: string | null;
  /** Host ports the engine bound while the container runs (engine-picked ones included); empty otherwise. */
  publishedPorts: TPublishedPort[];
}

export interface StartOptions {
  spec: TContainerSpec;
  hostId: string;
  specHash: string;
}

export interface ExitResult {
  exitCode: number;
  oomKilled: boolean;
  finishedAt: Date;
}

export type DriverEvent =
  | { kind: "start"; engineId: string; containerId: string | null; ts: Date }
  | { kind: "die"; engineId: string; containerId: string | null; exitCode: number | null; ts: Date }
  | { kind: "oom"; engineId: string; containerId: string | null; ts: Date }
  | { kind: "destroy"; engineId: string; containerId: string | null; ts: Date };

export interface PullProgress {
  status: string;
  id?: string;
  current?: number;
  total?: number;
}

export interface ImageSummary {
  id: string;
  tags: string[];
  digests: string[];
  sizeBytes: number;
  createdAt: string;
}

export interface LogLine {
  stream: "stdout" | "stderr";
  line: string;
  ts?: string;
  /** The line was longer than the driver's bound and was cut there. */
  truncated?: boolean;
}

export interface LogOptions {
  /**
   * Last N entries of the existing log; a negative number means all of it. The
   * engines count entries of both streams before the stdout/stderr filter.
   */
  tail: number;
  follow: boolean;
  /** RFC 3339 time or Unix seconds; only lines written at or after it. */
  since?: string;
  stdout: boolean;
  stderr: boolean;
}

/** A named volume as the engine lists it. */
export interface VolumeSummary {
  name: string;
  driver: string;
  /** ISO time, or null where the engine does not say (Podman's df). */
  createdAt: string | null;
  /** Bytes used as the engine measured them, or null where it did not. */
  sizeBytes: number | null;
  labels: Record<string, string>;
}

/** A network as the engine lists it, the engine's own (`bridge`, `host`, …) included. */
export interface NetworkSummary {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  subnet: string | null;
  gateway: string | null;
  createdAt: string | null;
}

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RuntimeDriver {
  readonly name: string;
  fingerprint(): Promise<DriverFingerprint>;
  /** Managed containers (by label), running or not. */
  recover(): Promise<ManagedContainer[]>;
  imageExists(image: string): Promise<boolean>;
  /** Resolves with the registry's manifest digest, or null when the engine cannot tell which it is. */
  pullImage(
    image: string,
    opts?: { auth?: RegistryAuth; onProgress?: (p: PullProgress) => void; signal?: AbortSignal },
  ): Promise<{ digest: string | null }>;
  listImages(): Promise<ImageSummary[]>;
  removeImage(image: string, opts?: { force?: boolean }): Promise<void>;
  /** Build from a tar context; each output line is passed to onOutput. */
  buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }>;
  pushImage(
    image: string,
    opts?: { auth?: RegistryAuth; onProgress?: (p: PullProgress) => void; signal?: AbortSignal },
  ): Promise<{ digest: string | null }>;
  /**
   * Create and start a container with the spec's limits and Fleet's labels,
   * first creating the named volumes it mounts and the networks it joins when
   * they are missing. A stopped leftover of the same Fleet container holding
   * the name is replaced; any other holder fails with `name-conflict`. A
   * container that fails to start is removed before the error is thrown.
   */
  start(opts: StartOptions): Promise<ManagedContainer>;
  inspect(engineId: string): Promise<ManagedContainer | null>;
  /** Resolves when the container exits (at once, with its last exit, if it is not running). */
  wait(engineId: string, signal?: AbortSignal): Promise<ExitResult>;
  stop(engineId: string, timeoutSeconds: number): Promise<void>;
  /** Start an existing stopped container again (restart in place). */
  restart(engineId: string): Promise<ManagedContainer>;
  destroy(engineId: string): Promise<void>;
  /**
   * Engine events for managed containers until the signal aborts (then the
   * iteration just ends). Subscribed at the call, not at the first `next()`.
   * Throws `unavailable` if the engine closes the stream (restart): watch again.
   */
  events(signal: AbortSignal): AsyncIterable<DriverEvent>;
  logs(engineId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine>;
  /** Creates a named volume; an existing one of that name is returned as it is. */
  createVolume(name: string): Promise<VolumeSummary>;
  /** Every volume with its size where the engine measures it (slow for big volumes). */
  listVolumes(): Promise<VolumeSummary[]>;
  /** `conflict` while a container (even a stopped one) uses it, `not-found` when there is none. */
  removeVolume(name: string): Promise<void>;
  /** Creates a bridge network; `conflict` when one of that name exists. */
  createNetwork(opts: { name: string; internal: boolean }): Promise<NetworkSummary>;
  listNetworks(): Promise<NetworkSummary[]>;
  /** `conflict` while a container is connected to it, `not-found` when there is none. */
  removeNetwork(name: string): Promise<void>;
}
