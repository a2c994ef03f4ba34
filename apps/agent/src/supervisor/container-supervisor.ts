/**
 * Supervises one Fleet container on this host: creates it (pulling its image
 * first), waits on it, applies the restart policy with backoff and crash-loop
 * detection, and reports every state change (`container.status`) and notable
 * moment (`event`) as it happens. The engine's own restart policy is never
 * used, so both engines behave alike and every restart is seen.
 *
 * While the container runs, its spec's health check (if any) runs too: the
 * verdict rides on every status frame, each change of it is a status frame
 * and a `container.health` event, and with `restartOnUnhealthy` an unhealthy
 * container is stopped and restarted through the restart policy's path and
 * backoff, as a failure. Each start begins again at `starting`.
 *
 * One instance lives from "desired" to "removed" (or until the agent shuts
 * down, when it lets go without touching the container). In between, the
 * desired state may hold it `stopped`: the container is stopped and kept (an
 * intentional stop, never a crash: no restart, no crash-loop count) until
 * `start()` runs the same engine container again.
 */

import { type Clock, sleep, type TimerHandle } from "@fleet/shared/clock";
import type { TContainerHealth, TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TContainerState, TDesiredRunState } from "@fleet/shared/domain/container-state";
import type {
  TContainerStatusFrame,
  TEventFrame,
  TEventKind,
  TPublishedPort,
} from "@fleet/shared/protocol/agent-to-server";
import { MAX_MESSAGE_LENGTH } from "@fleet/shared/protocol/common";
import type { Logger } from "pino";
import { ExponentialBackoff } from "../backoff";
import { HealthMonitor } from "../health/health-monitor";
import type { HealthProber } from "../health/health-prober";
import type { HealthVerdict } from "../health/health-state";
import type { ContainerDriver, ExitResult, ManagedContainer } from "../runtime/container-driver";
import { isDriverError } from "../runtime/driver";
import type { BindMountPolicy } from "./bind-mount-policy";
import type { ImagePuller } from "./image-puller";
import type { OomTracker } from "./oom-tracker";
import { decideRestart, RestartTracker, type RestartTuning, type TStopCause } from "./restart-policy";

/** Where statuses and events go (the link, or a test's list). */
export interface SupervisorReporter {
  status(frame: TContainerStatusFrame): void;
  event(frame: TEventFrame): void;
}

export interface SupervisorDeps {
  containers: ContainerDriver;
  clock: Clock;
  hostId: string;
  tuning: RestartTuning;
  reporter: SupervisorReporter;
  oom: OomTracker;
  images: ImagePuller;
  /** Checked right before every create; the reconciler keeps it current. */
  bindMounts: BindMountPolicy;
  /** Makes the spec's health checks (exec in the container, HTTP and TCP in its network namespace). */
  health: HealthProber;
  log: Logger;
}

/** Exit code of a process killed by SIGKILL, which is what the OOM killer sends. */
const SIGKILL_EXIT_CODE = 137;
/** Pull progress is folded into the status message at most this often. */
const PULL_STATUS_INTERVAL_MS = 1000;
/** Retry delay when the engine cannot be asked about a container (it may be restarting). */
const ENGINE_RETRY_MS = 2000;
/** The status message of a container held stopped. */
export const STOPPED_REASON = "desired state is stopped";

function errorMessage(error: unknown): string {
  return truncate(error instanceof Error ? error.message : String(error));
}

function truncate<T extends string | null>(text: T): T {
  return (
    text !== null && text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text
  ) as T;
}

export class ContainerSupervisor {
  readonly containerId: string;
  private spec: TContainerSpec | null;
  private specHashValue: string;
  private engineIdValue: string | null = null;
  private stateValue: TContainerState = "pending";
  private pid: number | null = null;
  private startedAt: Date | null = null;
  private finishedAt: Date | null = null;
  private exitCode: number | null = null;
  private oomKilled = false;
  private restartCountValue = 0;
  private message: string | null = null;
  /** Of the engine container, as the driver last reported it (the image does not change under a container). */
  private imageDigest: string | null = null;
  /** As bound at the last start; reported only while running (engine-picked ports change on restart). */
  private publishedPorts: TPublishedPort[] = [];

  private closed = false;
  private readonly lifetime = new AbortController();
  private waitAbort: AbortController | null = null;
  private timer: TimerHandle | null = null;
  private launching: Promise<void> | null = null;
  /** An adopted container exited before its spec (and so its restart policy) was known. */
  private awaitingPolicy = false;
  /** Set while restarts come too fast; the crash-loop event is sent once per episode. */
  private crashlooping = false;
  /** Desired `stopped`: nothing may start the container until `start()`. */
  private keptStopped = false;
  /** Aborts the image wait of the current launch, so a stop need not wait for a pull. */
  private launchAbort: AbortController | null = null;
  private restarts: RestartTracker;
  private readonly launchBackoff: ExponentialBackoff;
  /** The current run's health check; kept after it stops so the verdict stays until the exit is seen. */
  private healthMonitor: HealthMonitor | null = null;
  /** The agent is stopping the container for being unhealthy: its exit is a failure to restart from. */
  private unhealthyStop = false;
  /** Why the scheduled restart happens, for its event. */
  private restartCause: TStopCause = "exit";

  private constructor(
    private readonly deps: SupervisorDeps,
    containerId: string,
    spec: TContainerSpec | null,
    specHash: string,
  ) {
    this.containerId = containerId;
    this.spec = spec;
    this.specHashValue = specHash;
    this.restarts = new RestartTracker(deps.tuning);
    this.launchBackoff = new ExponentialBackoff({
      initialMs: deps.tuning.initialBackoffMs,
      maxMs: deps.tuning.maxBackoffMs,
      jitter: "none",
    });
  }

  /** Starts supervising a container that does not exist yet; `ready` settles once it runs or failed to. */
  static create(deps: SupervisorDeps, spec: TContainerSpec, specHash: string): ContainerSupervisor {
    const sup = new ContainerSupervisor(deps, spec.id, spec, specHash);
    sup.report();
    sup.launch();
    return sup;
  }

  /**
   * Takes over a container an earlier agent started. A running one is only
   * waited on (never restarted); one that exited meanwhile gets its restart
   * policy applied once the spec is known, unless the last snapshot the
   * earlier agent applied held it `stopped`: then it stays stopped.
   */
  static adopt(
    deps: SupervisorDeps,
    found: ManagedContainer,
    spec: TContainerSpec | null,
    runState: TDesiredRunState = "running",
  ): ContainerSupervisor {
    const sup = new ContainerSupervisor(deps, found.containerId, spec, found.specHash);
    sup.engineIdValue = found.engineId;
    sup.pid = found.pid;
    sup.startedAt = found.startedAt;
    sup.finishedAt = found.finishedAt;
    sup.exitCode = found.exitCode;
    sup.oomKilled = found.oomKilled;
    sup.imageDigest = found.imageDigest;
    sup.publishedPorts = found.publishedPorts;
    sup.emit("container.adopt", `adopted ${found.running ? "running" : "stopped"} container ${found.name}`, {
      engineId: found.engineId,
      running: found.running,
      startedAt: found.startedAt?.toISOString() ?? null,
    });
    if (found.running) {
      deps.oom.runStarted(found.containerId, found.engineId, false);
      sup.nowRunning();
    } else if (runState === "stopped") {
      sup.keptStopped = true;
      sup.setState("stopped", STOPPED_REASON);
    } else {
      sup.setState("exited", null);
      void sup.onExit(
        {
          exitCode: found.exitCode ?? 0,
          oomKilled: found.oomKilled,
          finishedAt: found.finishedAt ?? new Date(deps.clock.now()),
        },
        "while the agent was down",
      );
    }
    return sup;
  }

  get specHash(): string {
    return this.specHashValue;
  }

  get engineId(): string | null {
    return this.engineIdValue;
  }

  get state(): TContainerState {
    return this.stateValue;
  }

  get restartCount(): number {
    return this.restartCountValue;
  }

  get hasSpec(): boolean {
    return this.spec !== null;
  }

  /** Held stopped on purpose (desired `stopped`) until `start()`. */
  get isKeptStopped(): boolean {
    return this.keptStopped;
  }

  /** Settles when the current launch (pull, create, start) has finished, successfully or not. */
  get ready(): Promise<void> {
    return this.launching ?? Promise.resolve();
  }

  /** What the metrics sampler needs while the container runs. */
  sampleTarget(): { containerId: string; pid: number } | null {
    return this.stateValue === "running" && this.pid !== null
      ? { containerId: this.containerId, pid: this.pid }
      : null;
  }

  /** The health check's verdict while the container runs; null without a check or while not running. */
  get health(): TContainerHealth | null {
    return this.stateValue === "running" ? (this.healthMonitor?.current.health ?? null) : null;
  }

  statusFrame(): TContainerStatusFrame {
    return {
      type: "container.status",
      containerId: this.containerId,
      engineId: this.engineIdValue,
      state: this.stateValue,
      exitCode: this.exitCode,
      oomKilled: this.oomKilled,
      restartCount: this.restartCountValue,
      startedAt: this.startedAt?.toISOString() ?? null,
      finishedAt: this.finishedAt?.toISOString() ?? null,
      message: this.message,
      imageDigest: this.engineIdValue === null ? null : this.imageDigest,
      publishedPorts: this.stateValue === "running" ? this.publishedPorts.map((p) => ({ ...p })) : [],
      health: this.health,
      healthMessage: this.health === null ? null : truncate(this.healthMonitor?.current.message ?? null),
      ts: this.deps.clock.now(),
    };
  }

  /** The desired spec became known for an adopted container (same hash); applies a restart policy left pending. */
  provideSpec(spec: TContainerSpec): void {
    this.spec = spec;
    // Adopted running before its spec was known: its health check starts now.
    if (this.stateValue === "running" && !this.healthMonitor && !this.closed && !this.keptStopped) {
      if (this.startHealthMonitor()) {
        this.report();
        this.emitHealth();
      }
    }
    if (this.awaitingPolicy && !this.closed && !this.keptStopped) {
      this.awaitingPolicy = false;
      this.applyRestartPolicy();
    }
  }

  /**
   * Desired `stopped`: stops the container if it runs (the normal stop
   * timeout) and keeps it, exited with its logs, reported `stopped`. Pending
   * restarts are cancelled and a launch under way is abandoned (or, if the
   * engine already started it, stopped); nothing is created. An intentional
   * stop is not a crash: the restart policy is not applied and nothing is
   * counted. Settles once the engine container has stopped, or a retry of a
   * failed engine stop is scheduled.
   */
  async stop(reason: string = STOPPED_REASON): Promise<void> {
    if (this.closed || this.keptStopped) return;
    this.keptStopped = true;
    this.awaitingPolicy = false;
    this.crashlooping = false;
    this.unhealthyStop = false;
    this.cancelPending();
    this.launchAbort?.abort(new Error("container stopped"));
    await this.launching?.catch(() => {});
    if (this.closed || !this.keptStopped) return;
    await this.stopEngine(reason);
  }

  /**
   * Desired `running` again after a stop: starts the same engine container (a
   * new one if it disappeared meanwhile). A start asked for by a person begins
   * afresh, as `docker start` does: earlier restarts neither delay it nor count
   * against `on-failure:N`. Settles once it runs or failed to start.
   */
  async start(): Promise<void> {
    if (this.closed || !this.keptStopped) return;
    this.keptStopped = false;
    this.cancelPending();
    this.restarts = new RestartTracker(this.deps.tuning);
    this.restartCountValue = 0;
    this.crashlooping = false;
    this.launchBackoff.reset();
    this.track(this.resume());
    await this.ready;
  }

  /** Stops and removes the container (no longer desired, or about to be replaced). */
  async remove(reason: string): Promise<void> {
    if (this.stateValue === "removed") return;
    // A removal that failed may be tried again; only the first call stops the supervision.
    if (!this.closed) {
      this.closed = true;
      this.cancelPending();
      this.lifetime.abort(new Error("container no longer desired"));
    }
    await this.launching?.catch(() => {});
    const { containers, tuning } = this.deps;
    const engineId = this.engineIdValue;
    if (engineId) {
      const wasRunning = this.pid !== null;
      try {
        if (wasRunning) {
          await containers.stop(engineId, tuning.stopTimeoutSeconds);
          this.emit("container.stop", `stopped: ${reason}`, { engineId });
        }
        await containers.destroy(engineId);
      } catch (error) {
        if (!isDriverError(error, "not-found")) {
          this.deps.log.error(
            { err: error, containerId: this.containerId, engineId },
            "could not remove container",
          );
          this.message = `could not remove: ${errorMessage(error)}`;
          this.setState("failed", this.message);
          throw error;
        }
      }
    }
    this.deps.oom.forget(this.containerId, engineId);
    this.pid = null;
    this.emit("container.remove", `removed: ${reason}`, { engineId });
    this.setState("removed", reason);
  }

  /** Lets go of the container without touching it (agent shutdown): it keeps running. */
  detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelPending();
    this.lifetime.abort(new Error("agent shutting down"));
  }

  // ---- launch --------------------------------------------------------------

  private launch(): void {
    this.track(this.doLaunch());
  }

  /** Work that may start the container: `remove()` and `stop()` wait for it before they act. */
  private track(work: Promise<void>): void {
    const run = work.finally(() => {
      if (this.launching === run) this.launching = null;
    });
    this.launching = run;
  }

  private async doLaunch(): Promise<void> {
    const spec = this.spec;
    if (!spec || this.closed || this.keptStopped) return;
    const { containers, images, clock, hostId } = this.deps;
    const abort = new AbortController();
    this.launchAbort = abort;
    try {
      let lastProgressAt = 0;
      await images.ensure(spec.image, {
        signal: AbortSignal.any([this.lifetime.signal, abort.signal]),
        onPulling: () => this.setState("pulling", `pulling ${spec.image}`),
        onProgress: (p) => {
          const now = clock.now();
          if (now - lastProgressAt < PULL_STATUS_INTERVAL_MS) return;
          lastProgressAt = now;
          const amount = p.total ? ` ${p.current ?? 0}/${p.total}` : "";
          this.setState("pulling", `pulling ${spec.image}: ${p.status}${p.id ? ` ${p.id}` : ""}${amount}`);
        },
      });
      if (this.closed || this.keptStopped) return;
      this.setState("creating", null);
      // A refusal fails the launch like any create error: reported as `failed` with the resolved path, retried with backoff.
      const resolved = await this.deps.bindMounts.resolve(spec);
      const started = await containers.start({ spec: resolved, hostId, specHash: this.specHashValue });
      this.engineIdValue = started.engineId;
      if (this.closed) return; // remove() awaits the launch, then removes what it created.
      this.launchBackoff.reset();
      this.markStarted(started, true);
      this.emit("container.create", `created ${spec.name} from ${spec.image}`, {
        engineId: started.engineId,
      });
      this.emit("container.start", `started ${spec.name}`, { engineId: started.engineId, pid: started.pid });
      // stop() waits for this launch, then stops what it started.
      if (this.keptStopped) return;
      this.nowRunning();
    } catch (error) {
      if (this.closed || this.keptStopped) return;
      const delay = this.launchBackoff.nextDelayMs();
      const why = errorMessage(error);
      this.deps.log.warn(
        { err: error, containerId: this.containerId, retryInMs: delay },
        "container launch failed",
      );
      this.emit("agent.error", `could not start ${spec.name}: ${why}`, { retryInMs: delay });
      this.setState("failed", `${why} (retrying in ${Math.round(delay / 1000)}s)`);
      this.schedule(delay, () => this.launch());
    } finally {
      if (this.launchAbort === abort) this.launchAbort = null;
    }
  }

  /** Starts the kept engine container again after a stop; launches a new one if it is gone. */
  private async resume(): Promise<void> {
    if (this.closed || this.keptStopped) return;
    const engineId = this.engineIdValue;
    if (!engineId) return this.doLaunch();
    const name = this.spec?.name ?? this.containerId;
    try {
      const found = await this.deps.containers.restart(engineId);
      if (this.closed) return;
      this.markStarted(found, true);
      this.emit("container.start", `started ${name}`, { engineId, pid: found.pid });
      if (this.keptStopped) return;
      this.nowRunning();
    } catch (error) {
      if (this.closed || this.keptStopped) return;
      if (isDriverError(error, "not-found")) {
        this.deps.oom.forget(this.containerId, engineId);
        this.engineIdValue = null;
        return this.doLaunch();
      }
      if (isDriverError(error, "bind-mount-refused")) {
        await this.discardForBindMounts(engineId, error.message);
        return this.doLaunch();
      }
      const delay = this.launchBackoff.nextDelayMs();
      const why = errorMessage(error);
      this.deps.log.warn(
        { err: error, containerId: this.containerId, engineId, retryInMs: delay },
        "container start failed",
      );
      this.emit("agent.error", `could not start ${name}: ${why}`, { retryInMs: delay });
      this.setState("failed", `${why} (retrying in ${Math.round(delay / 1000)}s)`);
      this.schedule(delay, () => this.track(this.resume()));
    }
  }

  /** The engine side of `stop()`: a failed engine stop is retried while the container stays held stopped. */
  private async stopEngine(reason: string): Promise<void> {
    const { containers, tuning, clock } = this.deps;
    const engineId = this.engineIdValue;
    if (engineId && this.pid !== null) {
      try {
        await containers.stop(engineId, tuning.stopTimeoutSeconds);
      } catch (error) {
        if (this.closed || !this.keptStopped) return;
        if (!isDriverError(error, "not-found")) {
          const delay = this.launchBackoff.nextDelayMs();
          const why = errorMessage(error);
          this.deps.log.warn(
            { err: error, containerId: this.containerId, engineId, retryInMs: delay },
            "container stop failed",
          );
          this.emit("agent.error", `could not stop: ${why}`, { retryInMs: delay });
          this.message = errorMessage(`could not stop: ${why} (retrying in ${Math.round(delay / 1000)}s)`);
          this.report();
          this.schedule(delay, () => void this.stopEngine(reason));
          return;
        }
        this.engineIdValue = null;
      }
      if (this.closed || !this.keptStopped) return;
      const found = this.engineIdValue ? await containers.inspect(engineId).catch(() => null) : null;
      if (this.closed || !this.keptStopped) return;
      this.exitCode = found?.exitCode ?? null;
      this.finishedAt = found?.finishedAt ?? new Date(clock.now());
      this.oomKilled = false;
      this.emit("container.stop", `stopped: ${reason}`, { engineId });
    }
    this.launchBackoff.reset();
    this.deps.oom.forget(this.containerId, engineId);
    this.pid = null;
    this.setState("stopped", reason);
  }

  /**
   * A bind source of the existing engine container changed since it was
   * checked (part of its path is a symlink now): the container is removed
   * instead of started, and the launch that follows checks the spec's
   * sources afresh (refusing with the path they resolve to now).
   */
  private async discardForBindMounts(engineId: string, why: string): Promise<void> {
    this.deps.log.warn({ containerId: this.containerId, engineId, why }, "not starting a container again");
    this.emit("agent.warning", `not started again: ${why}; recreating it`, { engineId });
    await this.deps.containers.destroy(engineId).catch((error: unknown) => {
      this.deps.log.error(
        { err: error, containerId: this.containerId, engineId },
        "could not remove container",
      );
    });
    this.deps.oom.forget(this.containerId, engineId);
    this.engineIdValue = null;
  }

  private markStarted(found: ManagedContainer, freshCgroup: boolean): void {
    this.pid = found.pid;
    this.imageDigest = found.imageDigest;
    this.publishedPorts = found.publishedPorts;
    this.startedAt = found.startedAt ?? new Date(this.deps.clock.now());
    this.finishedAt = null;
    this.exitCode = null;
    this.oomKilled = false;
    this.unhealthyStop = false;
    this.deps.oom.runStarted(this.containerId, found.engineId, freshCgroup);
  }

  // ---- watching and restarting ---------------------------------------------

  /** The container runs (started, restarted or adopted): report it, start its health check, wait on it. */
  private nowRunning(): void {
    const checked = this.startHealthMonitor();
    this.setState("running", null);
    if (checked) this.emitHealth();
    this.watch();
  }

  /** Starts a fresh health check for this run (at `starting`); false when there is none to run. */
  private startHealthMonitor(): boolean {
    this.healthMonitor?.stop();
    this.healthMonitor = null;
    const check = this.spec?.healthCheck;
    const engineId = this.engineIdValue;
    const pid = this.pid;
    if (!check || !engineId || pid === null || this.closed || this.keptStopped) return false;
    const { clock, health } = this.deps;
    const monitor = new HealthMonitor({
      check,
      clock,
      startedAt: this.startedAt?.getTime() ?? clock.now(),
      probe: (signal) => health.probe({ engineId, pid }, check, signal),
      onChange: (verdict) => {
        if (this.healthMonitor === monitor) this.onHealthChange(verdict);
      },
    });
    this.healthMonitor = monitor;
    monitor.start();
    return true;
  }

  private onHealthChange(verdict: HealthVerdict): void {
    if (this.closed || this.keptStopped || this.stateValue !== "running") return;
    this.report();
    this.emitHealth();
    if (verdict.health === "unhealthy" && this.spec?.healthCheck?.restartOnUnhealthy) {
      void this.stopUnhealthy();
    }
  }

  private emitHealth(): void {
    const verdict = this.healthMonitor?.current;
    if (!verdict) return;
    const why = verdict.health === "healthy" || verdict.message === null ? "" : ` (${verdict.message})`;
    this.emit("container.health", `health_status: ${verdict.health}${why}`, { health: verdict.health });
  }

  /**
   * `restartOnUnhealthy`: stops the container; its exit then goes through
   * the restart policy as a failure (see `onExit`), so the backoff and the
   * crash-loop count apply as to any other failure.
   */
  private async stopUnhealthy(): Promise<void> {
    const engineId = this.engineIdValue;
    if (!engineId || this.closed || this.keptStopped || this.stateValue !== "running") return;
    this.healthMonitor?.stop();
    this.unhealthyStop = true;
    this.deps.log.info(
      { containerId: this.containerId, engineId },
      "stopping an unhealthy container to restart it",
    );
    try {
      await this.deps.containers.stop(engineId, this.deps.tuning.stopTimeoutSeconds);
    } catch (error) {
      // Gone: the wait reports it. Otherwise try again; the container still runs unhealthy meanwhile.
      if (
        this.closed ||
        this.keptStopped ||
        !this.unhealthyStop ||
        this.stateValue !== "running" ||
        isDriverError(error, "not-found")
      )
        return;
      this.deps.log.warn(
        { err: error, containerId: this.containerId, engineId },
        "could not stop an unhealthy container",
      );
      this.emit("agent.error", `could not stop the unhealthy container: ${errorMessage(error)}`, {
        retryInMs: ENGINE_RETRY_MS,
      });
      this.schedule(ENGINE_RETRY_MS, () => void this.stopUnhealthy());
    }
  }

  private stopHealthMonitor(): void {
    this.healthMonitor?.stop();
  }

  private watch(): void {
    const engineId = this.engineIdValue;
    if (!engineId || this.closed || this.keptStopped) return;
    const abort = new AbortController();
    this.waitAbort = abort;
    this.deps.containers.wait(engineId, abort.signal).then(
      (exit) => {
        if (this.waitAbort === abort) this.waitAbort = null;
        if (!abort.signal.aborted) void this.onExit(exit, null);
      },
      (error: unknown) => {
        if (this.waitAbort === abort) this.waitAbort = null;
        if (abort.signal.aborted || this.closed) return;
        void this.onWaitError(engineId, error);
      },
    );
  }

  /** The wait broke off without an exit: the container vanished, or the engine is unreachable. */
  private async onWaitError(engineId: string, error: unknown): Promise<void> {
    if (isDriverError(error, "not-found")) {
      this.vanished();
      return;
    }
    this.deps.log.warn(
      { err: error, containerId: this.containerId, engineId },
      "waiting on container failed; retrying",
    );
    try {
      await sleep(this.deps.clock, ENGINE_RETRY_MS, this.lifetime.signal);
      const found = await this.deps.containers.inspect(engineId);
      if (this.closed || this.keptStopped) return;
      if (!found) this.vanished();
      else if (found.running) this.watch();
      else
        void this.onExit(
          {
            exitCode: found.exitCode ?? 0,
            oomKilled: found.oomKilled,
            finishedAt: found.finishedAt ?? new Date(),
          },
          null,
        );
    } catch (retryError) {
      if (!this.closed && !this.keptStopped) void this.onWaitError(engineId, retryError);
    }
  }

  /** Someone removed the container behind the agent's back; the restart policy decides whether to recreate it. */
  private vanished(): void {
    this.stopHealthMonitor();
    this.deps.oom.forget(this.containerId, this.engineIdValue);
    this.engineIdValue = null;
    this.pid = null;
    this.finishedAt = new Date(this.deps.clock.now());
    this.exitCode = null;
    this.emit("agent.warning", "container disappeared from the engine", {});
    this.setState("exited", "container disappeared from the engine");
    this.applyRestartPolicy();
  }

  private async onExit(exit: ExitResult, context: string | null): Promise<void> {
    if (this.closed) return;
    this.stopHealthMonitor();
    const cause: TStopCause = this.unhealthyStop ? "unhealthy" : "exit";
    this.unhealthyStop = false;
    if (cause === "unhealthy") context = "after failing its health check";
    const engineId = this.engineIdValue ?? "";
    this.pid = null;
    let sources = this.deps.oom.exitSources(this.containerId, engineId, exit.oomKilled);
    if (sources.length === 0 && exit.exitCode === SIGKILL_EXIT_CODE && this.deps.tuning.oomSettleMs > 0) {
      // The kernel log record of an OOM kill may still be on its way to the watcher.
      try {
        await sleep(this.deps.clock, this.deps.tuning.oomSettleMs, this.lifetime.signal);
      } catch {
        return;
      }
      if (this.closed) return;
      sources = this.deps.oom.exitSources(this.containerId, engineId, exit.oomKilled);
    }
    this.exitCode = exit.exitCode;
    this.finishedAt = exit.finishedAt;
    this.oomKilled = sources.length > 0;
    const when = context ? ` ${context}` : "";
    this.emit(
      "container.exit",
      `exited with code ${exit.exitCode}${this.oomKilled ? " (OOM-killed)" : ""}${when}`,
      {
        exitCode: exit.exitCode,
        oomKilled: this.oomKilled,
        engineId,
      },
    );
    if (this.oomKilled) {
      const limit = this.spec?.resources.memoryLimitBytes ?? null;
      this.emit(
        "container.oom",
        `killed for running out of memory${limit ? ` (limit ${limit} bytes)` : ""}`,
        {
          memoryLimitBytes: limit,
          sources: sources.join(","),
          engineId,
        },
      );
    }
    // A stop asked for while this exit was being looked at: the exit is reported, the stop wins.
    if (this.keptStopped) return;
    this.setState("exited", null);
    this.applyRestartPolicy(cause);
  }

  private applyRestartPolicy(cause: TStopCause = "exit"): void {
    if (this.closed || this.keptStopped) return;
    const spec = this.spec;
    if (!spec) {
      this.awaitingPolicy = true;
      this.setState("exited", "waiting for the desired spec to apply the restart policy");
      return;
    }
    const decision = decideRestart(spec.restartPolicy, this.exitCode, this.restartCountValue, cause);
    this.restartCause = cause;
    if (!decision.restart) {
      this.setState("exited", decision.reason);
      return;
    }
    const plan = this.restarts.plan(this.deps.clock.now(), this.startedAt?.getTime() ?? null);
    const seconds = Math.round(plan.delayMs / 1000);
    const enteringCrashloop = plan.crashloop && !this.crashlooping;
    this.crashlooping = plan.crashloop;
    if (plan.crashloop) {
      if (enteringCrashloop) {
        this.emit("container.crashloop", `restarting too often; retrying every ${seconds}s`, {
          restartCount: this.restartCountValue,
          delayMs: plan.delayMs,
        });
      }
      this.setState("crashloop", `restarting too often; next try in ${seconds}s`);
    } else {
      this.setState("restarting", `restarting in ${seconds}s`);
    }
    this.schedule(plan.delayMs, () => this.track(this.restart()));
  }

  private async restart(): Promise<void> {
    if (this.closed || this.keptStopped) return;
    const spec = this.spec;
    const engineId = this.engineIdValue;
    if (!spec) return;
    if (!engineId) {
      // Gone from the engine: create it anew, which counts as a restart.
      this.restartCountValue++;
      this.emit("container.restart", `recreating ${spec.name} (restart ${this.restartCountValue})`, {
        restartCount: this.restartCountValue,
        cause: this.restartCause,
      });
      // Awaited here, not tracked anew: the caller tracks this whole restart.
      return this.doLaunch();
    }
    try {
      const found = await this.deps.containers.restart(engineId);
      if (this.closed) return;
      this.markStarted(found, true);
      // stop() waits for this restart, then stops what it started.
      if (this.keptStopped) return;
      this.restartCountValue++;
      const unhealthy = this.restartCause === "unhealthy" ? ", was unhealthy" : "";
      this.emit(
        "container.restart",
        `restarted ${spec.name} (restart ${this.restartCountValue}${unhealthy})`,
        {
          restartCount: this.restartCountValue,
          engineId,
          cause: this.restartCause,
        },
      );
      this.emit("container.start", `started ${spec.name}`, { engineId, pid: found.pid });
      this.nowRunning();
    } catch (error) {
      if (this.closed || this.keptStopped) return;
      if (isDriverError(error, "not-found")) {
        this.engineIdValue = null;
        return this.restart();
      }
      if (isDriverError(error, "bind-mount-refused")) {
        await this.discardForBindMounts(engineId, error.message);
        return this.restart();
      }
      this.deps.log.warn({ err: error, containerId: this.containerId, engineId }, "restart failed");
      this.message = errorMessage(error);
      // A failed restart is one more failure: back off further, without a run to reset it.
      this.startedAt = null;
      this.applyRestartPolicyAfterFailedRestart(errorMessage(error));
    }
  }

  private applyRestartPolicyAfterFailedRestart(why: string): void {
    const plan = this.restarts.plan(this.deps.clock.now(), null);
    this.crashlooping = plan.crashloop;
    const seconds = Math.round(plan.delayMs / 1000);
    this.setState(
      plan.crashloop ? "crashloop" : "restarting",
      `restart failed: ${why}; next try in ${seconds}s`,
    );
    this.schedule(plan.delayMs, () => this.track(this.restart()));
  }

  // ---- plumbing ------------------------------------------------------------

  private schedule(delayMs: number, fn: () => void): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      if (!this.closed) fn();
    }, delayMs);
  }

  private cancelPending(): void {
    this.stopHealthMonitor();
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    this.waitAbort?.abort();
    this.waitAbort = null;
  }

  private setState(state: TContainerState, message: string | null): void {
    this.stateValue = state;
    this.message = message === null ? null : errorMessage(message);
    this.report();
  }

  private report(): void {
    this.deps.reporter.status(this.statusFrame());
  }

  private emit(
    kind: TEventKind,
    message: string,
    data: Record<string, string | number | boolean | null>,
  ): void {
    this.deps.reporter.event({
      type: "event",
      ts: this.deps.clock.now(),
      kind,
      containerId: this.containerId,
      message: errorMessage(`${this.spec?.name ?? this.containerId}: ${message}`),
      data,
    });
  }
}
