/**
 * The in-memory engine behind the fake driver's three parts (see
 * fake-driver.ts): what it holds (images, containers, volumes, networks), how
 * a container's state changes, the events those changes emit, and the record
 * of every call the parts served. Tests drive it through the controls below.
 *
 * Nothing happens on its own: no timers, no clock unless one is passed in.
 * Containers run until the test calls `exit()` (or the code under test calls
 * `stop()`), pulls and starts succeed unless the test arms a failure, and every
 * call is recorded in `calls` so a test can assert what was (not) asked of the
 * engine, e.g. "no start after an agent restart".
 *
 * May import: the runtime contract, @fleet/shared types, node built-ins.
 */
import { createHash } from "node:crypto";
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TPublishedPort } from "@fleet/shared/protocol/agent-to-server";
import type {
  ContainerDriver,
  DriverEvent,
  DriverFingerprint,
  ExecOptions,
  ExecResult,
  ExitResult,
  LogLine,
  ManagedContainer,
  StartOptions,
} from "../container-driver";
import { DriverError, FLEET_LABELS } from "../driver";
import type { HostObjectStore, NetworkSummary, VolumeSummary } from "../host-object-store";
import type { ImageStore } from "../image-store";

/** A method of any of the three parts; their names do not overlap. */
export type FakeDriverMethod = keyof ContainerDriver | keyof ImageStore | keyof HostObjectStore;

export interface FakeCall {
  method: FakeDriverMethod;
  /** The engine id, image, container id or object name the call was about, when there is one. */
  target: string | null;
  args: unknown[];
}

export interface FakeContainer {
  engineId: string;
  name: string;
  image: string;
  imageId: string;
  hostId: string;
  containerId: string;
  specHash: string;
  labels: Record<string, string>;
  spec: TContainerSpec | null;
  running: boolean;
  pid: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  oomKilled: boolean;
  log: LogLine[];
  /** Host ports bound while it runs; mappings without a host port get one picked from 40000 up. */
  publishedPorts: TPublishedPort[];
}

export interface FakeEngineOptions {
  /** Source of timestamps; defaults to the wall clock. Pass a fixed function for exact assertions. */
  now?: () => Date;
  /** Images present from the start. */
  images?: Iterable<string>;
  fingerprint?: Partial<DriverFingerprint>;
  /** Exit code a container reports after `stop()`; 143 is SIGTERM, as a well-behaved process exits. */
  stopExitCode?: number;
}

type Listener<T> = (value: T) => void;

/** A push-to-pull bridge: values pushed before anyone iterates are kept, in order. */
export class PushIterable<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = [];
  private readonly pending: Array<{
    resolve: (r: IteratorResult<T>) => void;
    reject: (err: unknown) => void;
  }> = [];
  private closed = false;
  private failure: unknown = null;

  push(value: T): void {
    if (this.closed) return;
    const next = this.pending.shift();
    if (next) next.resolve({ value, done: false });
    else this.buffer.push(value);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const next of this.pending.splice(0)) next.resolve({ value: undefined, done: true });
  }

  /** Ends the iteration with an error once the buffered values are consumed. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = err;
    for (const next of this.pending.splice(0)) next.reject(err);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const value = this.buffer.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (this.failure !== null) {
          const err = this.failure;
          this.failure = null;
          return Promise.reject(err);
        }
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
      },
      return: () => {
        this.failure = null;
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export class FakeEngine {
  readonly calls: FakeCall[] = [];
  readonly images = new Set<string>();
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, VolumeSummary>();
  readonly networks = new Map<string, NetworkSummary>();
  /** Registry digests of the images pulled, as the engine's RepoDigests would hold them. */
  readonly imageDigests = new Map<string, string>();
  readonly now: () => Date;
  readonly stopExitCode: number;
  readonly fingerprintValue: DriverFingerprint;
  readonly exitListeners = new Map<string, Set<Listener<ExitResult>>>();
  /** null marks the container's exit: a follow ends there, as with the engine. */
  readonly logListeners = new Map<string, Set<Listener<LogLine | null>>>();

  /**
   * How `exec` answers (after checking the container runs); a test replaces
   * it to script checks, e.g. with a promise it settles by hand. The signal
   * aborts when the caller gives up; `exec` then rejects on its own.
   */
  execHandler: (
    container: FakeContainer,
    opts: ExecOptions,
    signal?: AbortSignal,
  ) => Promise<ExecResult> | ExecResult = () => ({
    exitCode: 0,
    timedOut: false,
    output: "",
    truncated: false,
  });

  private readonly pullFailures = new Map<string, string[]>();
  private readonly startFailures: string[] = [];
  private readonly methodFailures = new Map<FakeDriverMethod, DriverError[]>();
  private readonly eventStreams = new Set<PushIterable<DriverEvent>>();
  private nextEngineSerial = 1;
  private nextPid = 10_000;
  private nextHostPort = 40_000;

  constructor(opts: FakeEngineOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.stopExitCode = opts.stopExitCode ?? 143;
    for (const image of opts.images ?? []) this.images.add(image);
    this.fingerprintValue = {
      engine: { name: "docker", version: "0.0.0-fake", apiVersion: "1.41" },
      cpus: 4,
      memoryBytes: 8 * 1024 ** 3,
      kernel: "0.0.0-fake",
      os: "Fake OS",
      arch: "x86_64",
      dataRoot: "/var/lib/fake",
      cgroupVersion: 2,
      ...opts.fingerprint,
    };
  }

  // ---- controls for tests -------------------------------------------------

  /** Make a running container exit; resolves its waiters and emits `oom` (if OOM-killed) and `die`. */
  exit(engineId: string, result: { exitCode: number; oomKilled?: boolean }): void {
    const c = this.containers.get(engineId);
    if (!c) throw new Error(`fake: no container ${engineId}`);
    if (!c.running) throw new Error(`fake: container ${engineId} is not running`);
    this.finish(c, result.exitCode, result.oomKilled ?? false);
  }

  /** The next pull of `image` rejects with `pull-failed` and this message (one failure per call). */
  failNextPull(image: string, message: string): void {
    const queue = this.pullFailures.get(image) ?? [];
    queue.push(message);
    this.pullFailures.set(image, queue);
  }

  /** The next `start` (of any spec) rejects with this message, after the container was created, as the engine does. */
  failNextStart(message: string): void {
    this.startFailures.push(message);
  }

  /** The next call of `method` rejects with this error. */
  failNext(method: FakeDriverMethod, error: DriverError): void {
    const queue = this.methodFailures.get(method) ?? [];
    queue.push(error);
    this.methodFailures.set(method, queue);
  }

  /**
   * Ends every open `events()` iteration with an `unavailable` error, as the
   * engine driver does when the engine closes its event stream (engine restart).
   */
  breakEventStreams(message = "the engine closed the event stream"): void {
    for (const stream of this.eventStreams)
      stream.fail(new DriverError("unavailable", `watch engine events failed: ${message}`));
    this.eventStreams.clear();
  }

  /** Append a line to a container's log, as if its process wrote it. */
  writeLog(engineId: string, stream: LogLine["stream"], line: string): void {
    const c = this.mustGet(engineId);
    const entry: LogLine = { stream, line, ts: this.now().toISOString() };
    c.log.push(entry);
    for (const listener of this.logListeners.get(engineId) ?? []) listener(entry);
  }

  /**
   * Put a container in the engine as if an earlier agent had started it (for
   * recover/adopt tests). Its labels are Fleet's unless `labels` overrides them.
   */
  seedContainer(opts: {
    spec: TContainerSpec;
    hostId: string;
    specHash: string;
    running?: boolean;
    exitCode?: number | null;
    labels?: Record<string, string>;
  }): FakeContainer {
    this.images.add(opts.spec.image);
    const c = this.create({ spec: opts.spec, hostId: opts.hostId, specHash: opts.specHash }, opts.labels);
    if (opts.running ?? true) {
      this.markRunning(c);
    } else {
      c.exitCode = opts.exitCode ?? 0;
      c.finishedAt = this.now();
    }
    return c;
  }

  /** Calls of one method, in order. */
  callsTo(method: FakeDriverMethod): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Managed containers currently running. */
  running(): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.running);
  }

  // ---- for the three parts ------------------------------------------------

  /** Records the call, then throws the failure armed for its method, if any. */
  serve(method: FakeDriverMethod, target: string | null, args: unknown[]): void {
    this.record(method, target, args);
    this.throwIfArmed(method);
  }

  record(method: FakeDriverMethod, target: string | null, args: unknown[]): void {
    this.calls.push({ method, target, args });
  }

  takeArmed(method: FakeDriverMethod): DriverError | undefined {
    return this.methodFailures.get(method)?.shift();
  }

  throwIfArmed(method: FakeDriverMethod): void {
    const err = this.takeArmed(method);
    if (err) throw err;
  }

  takePullFailure(image: string): string | undefined {
    return this.pullFailures.get(image)?.shift();
  }

  takeStartFailure(): string | undefined {
    return this.startFailures.shift();
  }

  /** Subscribes now, not on first iteration, so events between this call and the loop are kept. */
  subscribe(signal: AbortSignal): AsyncIterable<DriverEvent> {
    const out = new PushIterable<DriverEvent>();
    this.eventStreams.add(out);
    const end = () => {
      this.eventStreams.delete(out);
      out.close();
    };
    if (signal.aborted) end();
    else signal.addEventListener("abort", end, { once: true });
    return out;
  }

  mustGet(engineId: string): FakeContainer {
    const c = this.containers.get(engineId);
    if (!c) throw new DriverError("not-found", `No such container: ${engineId}`, { statusCode: 404 });
    return c;
  }

  imageIdOf(image: string): string {
    return `sha256:${shortHash(`image:${image}`)}`;
  }

  create(opts: StartOptions, labelsOverride?: Record<string, string>): FakeContainer {
    const engineId = shortHash(`container:${this.nextEngineSerial++}`);
    const labels = labelsOverride ?? {
      ...opts.spec.labels,
      [FLEET_LABELS.managed]: "true",
      [FLEET_LABELS.containerId]: opts.spec.id,
      [FLEET_LABELS.hostId]: opts.hostId,
      [FLEET_LABELS.specHash]: opts.specHash,
      [FLEET_LABELS.name]: opts.spec.name,
    };
    const c: FakeContainer = {
      engineId,
      name: opts.spec.name,
      image: opts.spec.image,
      imageId: this.imageIdOf(opts.spec.image),
      hostId: labels[FLEET_LABELS.hostId] ?? "",
      containerId: labels[FLEET_LABELS.containerId] ?? "",
      specHash: labels[FLEET_LABELS.specHash] ?? "",
      labels,
      spec: opts.spec,
      running: false,
      pid: null,
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      log: [],
      publishedPorts: [],
    };
    this.containers.set(engineId, c);
    return c;
  }

  markRunning(c: FakeContainer): void {
    c.running = true;
    c.pid = this.nextPid++;
    c.startedAt = this.now();
    c.finishedAt = null;
    c.exitCode = null;
    c.oomKilled = false;
    // As the engines do: an engine-picked host port is picked anew on every start.
    c.publishedPorts = (c.spec?.ports ?? []).map((p) => ({
      containerPort: p.containerPort,
      protocol: p.protocol,
      hostIp: p.hostIp ?? "0.0.0.0",
      hostPort: p.hostPort ?? this.nextHostPort++,
    }));
    this.emit({ kind: "start", engineId: c.engineId, containerId: c.containerId || null, ts: c.startedAt });
  }

  finish(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
    const finishedAt = this.now();
    c.running = false;
    c.pid = null;
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.finishedAt = finishedAt;
    const containerId = c.containerId || null;
    if (oomKilled) this.emit({ kind: "oom", engineId: c.engineId, containerId, ts: finishedAt });
    this.emit({ kind: "die", engineId: c.engineId, containerId, exitCode, ts: finishedAt });
    const waiters = this.exitListeners.get(c.engineId);
    this.exitListeners.delete(c.engineId);
    for (const w of waiters ?? []) w({ exitCode, oomKilled, finishedAt });
    for (const l of this.logListeners.get(c.engineId) ?? []) l(null);
  }

  removeContainer(c: FakeContainer): void {
    this.containers.delete(c.engineId);
    this.emit({ kind: "destroy", engineId: c.engineId, containerId: c.containerId || null, ts: this.now() });
  }

  toManaged(c: FakeContainer): ManagedContainer {
    return {
      engineId: c.engineId,
      containerId: c.containerId,
      hostId: c.hostId,
      specHash: c.specHash,
      name: c.name,
      running: c.running,
      pid: c.pid,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      oomKilled: c.oomKilled,
      imageId: c.imageId,
      image: c.image,
      labels: { ...c.labels },
      imageDigest: this.imageDigests.get(c.image) ?? null,
      publishedPorts: c.running ? c.publishedPorts.map((p) => ({ ...p })) : [],
    };
  }

  private emit(e: DriverEvent): void {
    for (const stream of this.eventStreams) stream.push(e);
  }
}
