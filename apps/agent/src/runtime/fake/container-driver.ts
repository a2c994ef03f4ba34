/**
 * The fake ContainerDriver, over the in-memory engine (fake-engine.ts).
 *
 * It behaves like the engine driver where the supervisor can tell the
 * difference: a missing image fails `start` with `image-not-found`; a taken
 * name fails with `name-conflict` unless the holder is a stopped copy of the
 * same Fleet container, which is replaced; a container that fails to start is
 * removed; `start` creates the volumes and networks a spec names when they are
 * missing; `wait` on an exited container resolves at once with its last exit;
 * `destroy` of a missing container is not an error; an OOM kill emits `oom`
 * before `die` (as Docker does); `exec` in a container that is not running
 * fails with `conflict` and answers what the engine's `execHandler` says.
 */
import { volumeNamesOf } from "@fleet/shared/domain/container-spec";
import type {
  ContainerDriver,
  DriverEvent,
  DriverFingerprint,
  ExecOptions,
  ExecResult,
  ExitResult,
  LogLine,
  LogOptions,
  ManagedContainer,
  StartOptions,
} from "../container-driver";
import { DriverError, FLEET_LABELS } from "../driver";
import { type FakeEngine, PushIterable } from "./fake-engine";
import type { FakeHostObjectStore } from "./host-object-store";

export class FakeContainerDriver implements ContainerDriver {
  constructor(
    private readonly engine: FakeEngine,
    /** Where start() creates the volumes and networks a spec names. */
    private readonly hostObjects: FakeHostObjectStore,
  ) {}

  async fingerprint(): Promise<DriverFingerprint> {
    this.engine.serve("fingerprint", null, []);
    return structuredClone(this.engine.fingerprintValue);
  }

  async recover(): Promise<ManagedContainer[]> {
    this.engine.serve("recover", null, []);
    return [...this.engine.containers.values()]
      .filter((c) => c.labels[FLEET_LABELS.managed] === "true")
      .map((c) => this.engine.toManaged(c));
  }

  async start(opts: StartOptions): Promise<ManagedContainer> {
    const { engine } = this;
    engine.serve("start", opts.spec.id, [opts]);
    if (!engine.images.has(opts.spec.image)) {
      throw new DriverError("image-not-found", `No such image: ${opts.spec.image}`, { statusCode: 404 });
    }
    const taken = [...engine.containers.values()].find((c) => c.name === opts.spec.name);
    if (taken) {
      // Same rule as the engine driver: a stopped leftover of the same Fleet container is replaced.
      if (!taken.running && taken.containerId === opts.spec.id) {
        engine.removeContainer(taken);
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
    for (const name of volumeNamesOf(opts.spec.mounts)) this.hostObjects.ensure("volume", name);
    for (const name of opts.spec.networks) this.hostObjects.ensure("network", name);
    const c = engine.create(opts);
    const failure = engine.takeStartFailure();
    if (failure !== undefined) {
      // As the engine driver does: a container that failed to start is removed, not left behind.
      engine.removeContainer(c);
      throw new DriverError("engine", failure, { statusCode: 500 });
    }
    engine.markRunning(c);
    return engine.toManaged(c);
  }

  async inspect(engineId: string): Promise<ManagedContainer | null> {
    this.engine.serve("inspect", engineId, [engineId]);
    const c = this.engine.containers.get(engineId);
    return c ? this.engine.toManaged(c) : null;
  }

  wait(engineId: string, signal?: AbortSignal): Promise<ExitResult> {
    const { engine } = this;
    engine.record("wait", engineId, [engineId]);
    return new Promise<ExitResult>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const armed = engine.takeArmed("wait");
      if (armed) return reject(armed);
      const c = engine.containers.get(engineId);
      if (!c)
        return reject(new DriverError("not-found", `No such container: ${engineId}`, { statusCode: 404 }));
      if (!c.running) {
        return resolve({
          exitCode: c.exitCode ?? 0,
          oomKilled: c.oomKilled,
          finishedAt: c.finishedAt ?? engine.now(),
        });
      }
      const listeners = engine.exitListeners.get(engineId) ?? new Set();
      engine.exitListeners.set(engineId, listeners);
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
    this.engine.serve("stop", engineId, [engineId, timeoutSeconds]);
    const c = this.engine.mustGet(engineId);
    if (c.running) this.engine.finish(c, this.engine.stopExitCode, false);
  }

  async restart(engineId: string): Promise<ManagedContainer> {
    this.engine.serve("restart", engineId, [engineId]);
    const c = this.engine.mustGet(engineId);
    if (!c.running) this.engine.markRunning(c);
    return this.engine.toManaged(c);
  }

  async destroy(engineId: string): Promise<void> {
    this.engine.serve("destroy", engineId, [engineId]);
    const c = this.engine.containers.get(engineId);
    if (!c) return;
    if (c.running) this.engine.finish(c, 137, false);
    this.engine.removeContainer(c);
  }

  events(signal: AbortSignal): AsyncIterable<DriverEvent> {
    this.engine.record("events", null, []);
    return this.engine.subscribe(signal);
  }

  async exec(engineId: string, opts: ExecOptions, signal?: AbortSignal): Promise<ExecResult> {
    const { engine } = this;
    engine.serve("exec", engineId, [engineId, opts]);
    signal?.throwIfAborted();
    const c = engine.mustGet(engineId);
    if (!c.running) {
      throw new DriverError("conflict", `container ${engineId} is not running`, { statusCode: 409 });
    }
    const answer = Promise.resolve(engine.execHandler(c, opts, signal));
    if (!signal) return answer;
    return new Promise<ExecResult>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      answer.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  logs(engineId: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<LogLine> {
    const { engine } = this;
    engine.record("logs", engineId, [engineId, opts]);
    const c = engine.mustGet(engineId);
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
    const listeners = engine.logListeners.get(engineId) ?? new Set();
    engine.logListeners.set(engineId, listeners);
    const end = () => {
      listeners.delete(listener);
      signal?.removeEventListener("abort", end);
      out.close();
    };
    const listener = (l: LogLine | null) => {
      if (l === null) end();
      else if (wanted(l)) out.push(l);
    };
    listeners.add(listener);
    signal?.addEventListener("abort", end, { once: true });
    return out;
  }
}

function sinceIso(since: string): string {
  return /^\d+(\.\d+)?$/.test(since) ? new Date(Number(since) * 1000).toISOString() : since;
}
