/**
 * An in-memory RuntimeDriver for unit tests of the supervisor and the reconciler.
 *
 * Nothing happens on its own: no timers, no clock unless one is passed in.
 * Containers run until the test calls `exit()` (or the code under test calls
 * `stop()`), pulls and starts succeed unless the test arms a failure, and every
 * call is recorded in `calls` so a test can assert what was (not) asked of the
 * engine, e.g. "no start after an agent restart".
 *
 * It behaves like the engine driver where the supervisor can tell the
 * difference: a missing image fails `start` with `image-not-found`; a taken
 * name fails with `name-conflict` unless the holder is a stopped copy of the
 * same Fleet container, which is replaced; a container that fails to start is
 * removed; `wait` on an exited container resolves at once with its last exit;
 * `destroy` of a missing container is not an error; an OOM kill emits `oom`
 * before `die` (as Docker does); a volume or network a container (even a
 * stopped one) uses cannot be removed (`conflict`); `start` creates the
 * volumes and networks a spec names when they are missing.
 *
 * May import: the driver contract, @fleet/shared types, node built-ins.
 */
import { createHash } from "node:crypto";
import { type TContainerSpec, volumeNamesOf } from "@fleet/shared/domain/container-spec";
import type { TPublishedPort } from "@fleet/shared/protocol/agent-to-server";
import {
  DriverError,
  type DriverEvent,
  type DriverFingerprint,
  type ExitResult,
  FLEET_LABELS,
  type ImageSummary,
  type LogLine,
  type LogOptions,
  type ManagedContainer,
  type NetworkSummary,
  type PullProgress,
  type RegistryAuth,
  type RuntimeDriver,
  type StartOptions,
  type VolumeSummary,
} from "../driver";

export type FakeDriverMethod = Exclude<keyof RuntimeDriver, "name">;

export interface FakeCall {
  method: FakeDriverMethod;
  /** The engine id, image or container id the call was about, when there is one. */
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

export interface FakeDriverOptions {
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
class PushIterable<T> implements AsyncIterable<T> {
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

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export class FakeDriver implements RuntimeDriver {
  readonly name = "fake";
  readonly calls: FakeCall[] = [];
  readonly images = new Set<string>();
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, VolumeSummary>();
  readonly networks = new Map<string, NetworkSummary>();
  /** Registry digests of the images pulled, as the engine's RepoDigests would hold them. */
  readonly imageDigests = new Map<string, string>();

  private readonly now: () => Date;
  private readonly stopExitCode: number;
  private readonly fingerprintValue: DriverFingerprint;
  private readonly pullFailures = new Map<string, string[]>();
  private readonly startFailures: string[] = [];
  private readonly methodFailures = new Map<FakeDriverMethod, DriverError[]>();
  private readonly eventStreams = new Set<PushIterable<DriverEvent>>();
  private readonly exitListeners = new Map<string, Set<Listener<ExitResult>>>();
  private readonly logListeners = new Map<string, Set<Listener<LogLine | null>>>();
  private nextEngineSerial = 1;
  private nextPid = 10_000;
  private nextHostPort = 40_000;

  constructor(opts: FakeDriverOptions = {}) {
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

  // ---- RuntimeDriver ------------------------------------------------------

  async fingerprint(): Promise<DriverFingerprint> {
    this.record("fingerprint", null, []);
    this.throwIfArmed("fingerprint");
    return structuredClone(this.fingerprintValue);
  }

  async recover(): Promise<ManagedContainer[]> {
    this.record("recover", null, []);
    this.throwIfArmed("recover");
    return [...this.containers.values()]
      .filter((c) => c.labels[FLEET_LABELS.managed] === "true")
      .map((c) => this.toManaged(c));
  }

  async imageExists(image: string): Promise<boolean> {
    this.record("imageExists", image, [image]);
    this.throwIfArmed("imageExists");
    return this.images.has(image);
  }

  async pullImage(
    image: string,
    opts?: { auth?: RegistryAuth; onProgress?: (p: PullProgress) => void; signal?: AbortSignal },
  ): Promise<{ digest: string | null }> {
    this.record("pullImage", image, [image, { auth: opts?.auth }]);
    opts?.signal?.throwIfAborted();
    this.throwIfArmed("pullImage");
    const failure = this.pullFailures.get(image)?.shift();
    if (failure !== undefined) throw new DriverError("pull-failed", `pull ${image} failed: ${failure}`);
    opts?.onProgress?.({ status: `Pulling from ${image}` });
    opts?.onProgress?.({ status: "Download complete", id: "layer0", current: 1, total: 1 });
    this.images.add(image);
    const digest = `sha256:${shortHash(`digest:${image}`)}`;
    this.imageDigests.set(image, digest);
    return { digest };
  }

  async listImages(): Promise<ImageSummary[]> {
    this.record("listImages", null, []);
    this.throwIfArmed("listImages");
    return [...this.images].map((image) => ({
      id: this.imageIdOf(image),
      tags: [image],
      digests: [],
      sizeBytes: 1024,
      createdAt: new Date(0).toISOString(),
    }));
  }

  async removeImage(image: string, opts?: { force?: boolean }): Promise<void> {
    this.record("removeImage", image, [image, opts]);
    this.throwIfArmed("removeImage");
    if (!this.images.has(image))
      throw new DriverError("image-not-found", `No such image: ${image}`, { statusCode: 404 });
    const user = [...this.containers.values()].find((c) => c.image === image);
    if (user && !opts?.force) {
      throw new DriverError(
        "conflict",
        `unable to remove image ${image}: it is in use by container ${user.engineId}`,
        { statusCode: 409 },
      );
    }
    this.images.delete(image);
  }

  async buildImage(
    context: NodeJS.ReadableStream | Buffer,
    opts: { tag: string; dockerfile?: string; onOutput?: (line: string) => void; signal?: AbortSignal },
  ): Promise<{ imageId: string }> {
    this.record("buildImage", opts.tag, [opts.tag, { dockerfile: opts.dockerfile }]);
    opts.signal?.throwIfAborted();
    this.throwIfArmed("buildImage");
    if (!Buffer.isBuffer(context)) for await (const _ of context) void _;
    opts.onOutput?.(`Successfully tagged ${opts.tag}`);
    this.images.add(opts.tag);
    return { imageId: this.imageIdOf(opts.tag) };
  }

  async pushImage(
    image: string,
    opts?: { auth?: RegistryAuth; onProgress?: (p: PullProgress) => void; signal?: AbortSignal },
  ): Promise<{ digest: string | null }> {
    this.record("pushImage", image, [image, { auth: opts?.auth }]);
    opts?.signal?.throwIfAborted();
    this.throwIfArmed("pushImage");
    if (!this.images.has(image))
      throw new DriverError("image-not-found", `No such image: ${image}`, { statusCode: 404 });
    opts?.onProgress?.({ status: "Pushed", id: "layer0" });
    return { digest: `sha256:${shortHash(`digest:${image}`)}` };
  }

  async start(opts: StartOptions): Promise<ManagedContainer> {
    this.record("start", opts.spec.id, [opts]);
    this.throwIfArmed("start");
    if (!this.images.has(opts.spec.image)) {
      throw new DriverError("image-not-found", `No such image: ${opts.spec.image}`, { statusCode: 404 });
    }
    const taken = [...this.containers.values()].find((c) => c.name === opts.spec.name);
    if (taken) {
      // Same rule as the engine driver: a stopped leftover of the same Fleet container is replaced.
      if (!taken.running && taken.containerId === opts.spec.id) {
        this.removeContainer(taken);
      } else {
        throw new DriverError(
          "name-conflict",
          `container name "${opts.spec.name}" is already in use by ${taken.engineId} (${
            taken.running ? "running" : "stopped"
          }, fleet container ${taken.containerId || "none"})`,
          { statusCode: 409 },
        );
      }
    }
    for (const name of volumeNamesOf(opts.spec.mounts)) {
      if (!this.volumes.has(name)) this.volumes.set(name, this.volumeSummary(name));
    }
    for (const name of opts.spec.networks) {
      if (!this.networks.has(name)) this.networks.set(name, this.networkSummary(name, false));
    }
    const c = this.create(opts);
    const failure = this.startFailures.shift();
    if (failure !== undefined) {
      // As the engine driver does: a container that failed to start is removed, not left behind.
      this.removeContainer(c);
      throw new DriverError("engine", failure, { statusCode: 500 });
    }
    this.markRunning(c);
    return this.toManaged(c);
  }

  async inspect(engineId: string): Promise<ManagedContainer | null> {
    this.record("inspect", engineId, [engineId]);
    this.throwIfArmed("inspect");
    const c = this.containers.get(engineId);
    return c ? this.toManaged(c) : null;
  }

  wait(engineId: string, signal?: AbortSignal): Promise<ExitResult> {
    this.record("wait", engineId, [engineId]);
    return new Promise<ExitResult>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const armed = this.takeArmed("wait");
      if (armed) return reject(armed);
      const c = this.containers.get(engineId);
      if (!c)
        return reject(new DriverError("not-found", `No such container: ${engineId}`, { statusCode: 404 }));
      if (!c.running) {
        return resolve({
          exitCode: c.exitCode ?? 0,
          oomKilled: c.oomKilled,
          finishedAt: c.finishedAt ?? this.now(),
        });
      }
      const listeners = this.exitListeners.get(engineId) ?? new Set();
      this.exitListeners.set(engineId, listeners);
      const onAbort = () => {
        listeners.delete(onExit);
        reject(signal?.reason);
      };
      const onExit = (result: ExitResult) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      listeners.add(onExit);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async stop(engineId: string, timeoutSeconds: number): Promise<void> {
    this.record("stop", engineId, [engineId, timeoutSeconds]);
    this.throwIfArmed("stop");
    const c = this.mustGet(engineId);
    if (c.running) this.finish(c, this.stopExitCode, false);
  }

  async restart(engineId: string): Promise<ManagedContainer> {
    this.record("restart", engineId, [engineId]);
    this.throwIfArmed("restart");
    const c = this.mustGet(engineId);
    if (!c.running) this.markRunning(c);
    return this.toManaged(c);
  }

  async destroy(engineId: string): Promise<void> {
    this.record("destroy", engineId, [engineId]);
    this.throwIfArmed("destroy");
    const c = this.containers.get(engineId);
    if (!c) return;
    if (c.running) this.finish(c, 137, false);
    this.removeContainer(c);
  }

  events(signal: AbortSignal): AsyncIterable<DriverEvent> {
    this.record("events", null, []);
    // Subscribe now, not on first iteration, so events between this call and the loop are kept.
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

  logs(engineId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    this.record("logs", engineId, [engineId, opts]);
    const c = this.mustGet(engineId);
    const wanted = (l: LogLine) =>
      (l.stream === "stdout" ? opts.stdout : opts.stderr) &&
      (opts.since === undefined || (l.ts !== undefined && l.ts >= sinceIso(opts.since)));
    const existing = c.log.filter(wanted);
    const out = new PushIterable<LogLine>();
    for (const l of opts.tail < 0 ? existing : existing.slice(Math.max(0, existing.length - opts.tail))) {
      out.push(l);
    }
    if (!opts.follow || !c.running || signal?.aborted) {
      out.close();
      return out;
    }
    const listeners = this.logListeners.get(engineId) ?? new Set();
    this.logListeners.set(engineId, listeners);
    const end = () => {
      listeners.delete(listener);
      signal?.removeEventListener("abort", end);
      out.close();
    };
    // null marks the container's exit: a follow ends there, as with the engine.
    const listener: Listener<LogLine | null> = (l) => {
      if (l === null) end();
      else if (wanted(l)) out.push(l);
    };
    listeners.add(listener);
    signal?.addEventListener("abort", end, { once: true });
    return out;
  }

  async createVolume(name: string): Promise<VolumeSummary> {
    this.record("createVolume", name, [name]);
    this.throwIfArmed("createVolume");
    const volume = this.volumes.get(name) ?? this.volumeSummary(name);
    this.volumes.set(name, volume);
    return structuredClone(volume);
  }

  async listVolumes(): Promise<VolumeSummary[]> {
    this.record("listVolumes", null, []);
    this.throwIfArmed("listVolumes");
    return [...this.volumes.values()].map((v) => structuredClone(v));
  }

  async removeVolume(name: string): Promise<void> {
    this.record("removeVolume", name, [name]);
    this.throwIfArmed("removeVolume");
    if (!this.volumes.has(name)) {
      throw new DriverError("not-found", `remove volume ${name} failed: no such volume`, { statusCode: 404 });
    }
    const user = [...this.containers.values()].find((c) =>
      c.spec?.mounts.some((m) => m.type === "volume" && m.source === name),
    );
    if (user) {
      throw new DriverError(
        "conflict",
        `remove volume ${name} failed: volume is in use - [${user.engineId}]`,
        { statusCode: 409 },
      );
    }
    this.volumes.delete(name);
  }

  async createNetwork(opts: { name: string; internal: boolean }): Promise<NetworkSummary> {
    this.record("createNetwork", opts.name, [opts]);
    this.throwIfArmed("createNetwork");
    if (this.networks.has(opts.name)) {
      throw new DriverError(
        "conflict",
        `create network ${opts.name} failed: network with name ${opts.name} already exists`,
        { statusCode: 409 },
      );
    }
    const network = this.networkSummary(opts.name, opts.internal);
    this.networks.set(opts.name, network);
    return structuredClone(network);
  }

  async listNetworks(): Promise<NetworkSummary[]> {
    this.record("listNetworks", null, []);
    this.throwIfArmed("listNetworks");
    return [...this.networks.values()].map((n) => structuredClone(n));
  }

  async removeNetwork(name: string): Promise<void> {
    this.record("removeNetwork", name, [name]);
    this.throwIfArmed("removeNetwork");
    if (!this.networks.has(name)) {
      throw new DriverError("not-found", `remove network ${name} failed: network ${name} not found`, {
        statusCode: 404,
      });
    }
    const user = [...this.containers.values()].find((c) => c.running && c.spec?.networks.includes(name));
    if (user) {
      throw new DriverError(
        "conflict",
        `remove network ${name} failed: network ${name} has active endpoints`,
        { statusCode: 403 },
      );
    }
    this.networks.delete(name);
  }

  // ---- internals ----------------------------------------------------------

  private volumeSummary(name: string): VolumeSummary {
    return {
      name,
      driver: "local",
      createdAt: this.now().toISOString(),
      sizeBytes: 0,
      labels: { [FLEET_LABELS.managed]: "true" },
    };
  }

  private networkSummary(name: string, internal: boolean): NetworkSummary {
    const n = this.networks.size + 1;
    return {
      id: shortHash(`network:${name}`),
      name,
      driver: "bridge",
      internal,
      subnet: `10.89.${n}.0/24`,
      gateway: `10.89.${n}.1`,
      createdAt: this.now().toISOString(),
    };
  }

  private record(method: FakeDriverMethod, target: string | null, args: unknown[]): void {
    this.calls.push({ method, target, args });
  }

  private takeArmed(method: FakeDriverMethod): DriverError | undefined {
    return this.methodFailures.get(method)?.shift();
  }

  private throwIfArmed(method: FakeDriverMethod): void {
    const err = this.takeArmed(method);
    if (err) throw err;
  }

  private mustGet(engineId: string): FakeContainer {
    const c = this.containers.get(engineId);
    if (!c) throw new DriverError("not-found", `No such container: ${engineId}`, { statusCode: 404 });
    return c;
  }

  private imageIdOf(image: string): string {
    return `sha256:${shortHash(`image:${image}`)}`;
  }

  private create(opts: StartOptions, labelsOverride?: Record<string, string>): FakeContainer {
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

  private markRunning(c: FakeContainer): void {
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

  private finish(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
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

  private removeContainer(c: FakeContainer): void {
    this.containers.delete(c.engineId);
    this.emit({ kind: "destroy", engineId: c.engineId, containerId: c.containerId || null, ts: this.now() });
  }

  private emit(e: DriverEvent): void {
    for (const stream of this.eventStreams) stream.push(e);
  }

  private toManaged(c: FakeContainer): ManagedContainer {
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
}

function sinceIso(since: string): string {
  return /^\d+(\.\d+)?$/.test(since) ? new Date(Number(since) * 1000).toISOString() : since;
}
