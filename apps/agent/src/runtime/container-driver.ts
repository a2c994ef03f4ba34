/**
 * The container driver: the part of the runtime contract (see driver.ts) that
 * runs containers. The supervisor, the reconciler and the agent's event and
 * fingerprint loops talk only to this.
 */
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TPublishedPort } from "@fleet/shared/protocol/agent-to-server";

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

export interface ExecOptions {
  /** The program and its arguments, run in the container as its default user. */
  command: string[];
  /** Past this the process is killed and the result says `timedOut`. */
  timeoutMs: number;
  /** Output past this many bytes (stdout and stderr together) is dropped and the result says `truncated`. */
  maxOutputBytes: number;
}

export interface ExecResult {
  /** null when it was killed for its timeout. */
  exitCode: number | null;
  timedOut: boolean;
  /** stdout and stderr as written, by lines, cut at `maxOutputBytes`. */
  output: string;
  truncated: boolean;
}

export interface ContainerDriver {
  fingerprint(): Promise<DriverFingerprint>;
  /** Managed containers (by label), running or not. */
  recover(): Promise<ManagedContainer[]>;
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
  /**
   * Runs a process in the running container (the engine's exec API) and
   * resolves with its exit code once it ends. The process is killed at its
   * timeout, or when the signal aborts (then this rejects with the signal's
   * reason), so none outlives the call. A container that is not running
   * fails with `conflict`, a missing one with `not-found`.
   */
  exec(engineId: string, opts: ExecOptions, signal?: AbortSignal): Promise<ExecResult>;
}
