/**
 * Wires the agent together: state store → link ↔ reconciler/supervisors →
 * driver, plus the metrics loop, the engine's event stream and the kernel OOM
 * watcher. Owns start-up order (adopt what runs before talking to the central
 * when the host id is known) and shutdown (stop sending, close the link, leave
 * every container running).
 */
import { hostname } from "node:os";
import { type Clock, sleep, systemClock, type TimerHandle } from "@fleet/shared/clock";
import { ZContainerSample, ZHostSample } from "@fleet/shared/domain/metrics";
import type { TAgentAuth, TEventFrame } from "@fleet/shared/protocol/agent-to-server";
import type { TWelcomeFrame } from "@fleet/shared/protocol/server-to-agent";
import type { Logger } from "pino";
import { ExponentialBackoff } from "./backoff";
import type { TAgentConfig } from "./config";
import { RuntimeHealthProber } from "./health/health-prober";
import { AgentLink, type LinkTuning } from "./link/agent-link";
import type { SpoolLimits } from "./link/metrics-spool";
import type { KernelOomSource, MetricsSource } from "./metrics-source";
import { OperationError, type OperationLimits, OperationRunner } from "./operations";
import { Reconciler } from "./reconciler";
import type { DriverFingerprint } from "./runtime/container-driver";
import type { RuntimeDriver } from "./runtime/driver";
import { chooseAuth, chooseServerPin, type StateStore } from "./state-store";
import { BindMountPolicy } from "./supervisor/bind-mount-policy";
import type { SupervisorDeps, SupervisorReporter } from "./supervisor/container-supervisor";
import { ImagePuller } from "./supervisor/image-puller";
import { OomTracker } from "./supervisor/oom-tracker";
import { DEFAULT_RESTART_TUNING, type RestartTuning } from "./supervisor/restart-policy";
import { downloadVerifiedBinary } from "./upgrade/download-binary";

/** What an `agent.upgrade` needs from the process around the agent. */
export interface SelfUpgradeOptions {
  /** The path this agent's executable is known by; null when it is not the built executable (tsx, tests). */
  executable: string | null;
  /** A verified binary is staged at `staged`; the process takes over from here (see upgrade/trial.ts). */
  onStaged: (staged: { path: string; version: string }) => void;
  downloadTimeoutMs?: number;
}

export interface AgentOptions {
  config: Partial<Pick<TAgentConfig, "serverPin">> &
    Pick<
      TAgentConfig,
      | "serverUrl"
      | "joinToken"
      | "name"
      | "labels"
      | "metricsIntervalMs"
      | "reserveCpuMillis"
      | "reserveMemoryBytes"
    >;
  /** The engine; each of its three parts goes only to what uses it. */
  driver: RuntimeDriver;
  store: StateStore;
  log: Logger;
  agentVersion: string;
  caPem?: string | null;
  /** Null: no metrics (tests of other parts). */
  metrics?: MetricsSource | null;
  /** Null: the kernel log is not watched (OOMs then come from the engine and cgroup counters only). */
  kernelOoms?: KernelOomSource | null;
  clock?: Clock;
  restartTuning?: Partial<RestartTuning>;
  linkTuning?: Partial<LinkTuning>;
  spoolLimits?: SpoolLimits;
  operationLimits?: Partial<OperationLimits>;
  /** Absent: `agent.upgrade` is refused as unsupported. */
  selfUpgrade?: SelfUpgradeOptions;
  /** Sent once the link is first up: what happened before this agent could say it (a failed upgrade). */
  startupEvents?: Array<Pick<TEventFrame, "kind" | "message" | "data">>;
  /** Each time the central accepted the hello. */
  onConnected?: () => void;
}

/** Retry pacing for the engine at start-up and for its event stream. */
const ENGINE_RETRY = { initialMs: 1000, maxMs: 30_000 };

export class Agent {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly oom = new OomTracker();
  private readonly images: ImagePuller;
  private readonly link: AgentLink;
  private readonly operations: OperationRunner;
  private readonly lifetime = new AbortController();
  private auth: TAgentAuth | null = null;
  private serverPin: string | null = null;
  /** The pin in credential.json, to store the credential again when it changes. */
  private storedPin: string | null = null;
  private hostId: string | null = null;
  private reconciler: Reconciler | null = null;
  private fingerprint: DriverFingerprint | null = null;
  private metricsIntervalMs: number;
  private metricsTimer: TimerHandle | null = null;
  private sampling = false;
  private stopping = false;
  private upgrading = false;
  private startupEventsSent = false;

  constructor(private readonly opts: AgentOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.metricsIntervalMs = opts.config.metricsIntervalMs;
    this.images = new ImagePuller(opts.driver.images, {
      onPulled: (image, digest) =>
        this.link.send({
          type: "event",
          ts: this.clock.now(),
          kind: "image.pulled",
          message: `pulled ${image}`,
          data: { image, digest },
        }),
      onPullFailed: (image, error) =>
        this.link.send({
          type: "event",
          ts: this.clock.now(),
          kind: "image.pull-failed",
          message: `pulling ${image} failed: ${error instanceof Error ? error.message : String(error)}`.slice(
            0,
            4000,
          ),
          data: { image },
        }),
    });
    this.link = new AgentLink({
      serverUrl: opts.config.serverUrl,
      caPem: opts.caPem ?? null,
      serverPin: () => this.serverPin,
      auth: () => {
        if (!this.auth) throw new Error("agent not started");
        return this.auth;
      },
      hello: () => this.helloBody(),
      onWelcome: (welcome, used) => this.onWelcome(welcome, used),
      onReady: () => {
        for (const status of this.reconciler?.statusFrames() ?? []) this.link.send(status);
        if (!this.startupEventsSent) {
          this.startupEventsSent = true;
          for (const event of opts.startupEvents ?? [])
            this.link.send({ type: "event", ts: this.clock.now(), ...event });
        }
        opts.onConnected?.();
      },
      onFrame: (frame) => {
        switch (frame.type) {
          case "desired":
            this.reconciler?.submit(frame);
            break;
          case "op.request":
            this.operations.handleRequest(frame);
            break;
          case "op.cancel":
            this.operations.handleCancel(frame);
            break;
          case "upload.chunk":
            this.operations.handleUploadChunk(frame);
            break;
        }
      },
      onDisconnect: () => this.operations.abortAll(),
      heartbeat: () => ({
        containers: this.reconciler?.containerCount ?? 0,
        ackedGeneration: this.reconciler?.ackedGeneration ?? null,
      }),
      log: opts.log,
      clock: this.clock,
      ...(opts.linkTuning ? { tuning: opts.linkTuning } : {}),
      ...(opts.spoolLimits ? { spoolLimits: opts.spoolLimits } : {}),
      metricsIntervalMs: opts.config.metricsIntervalMs,
    });
    this.operations = new OperationRunner({
      containers: opts.driver.containers,
      images: opts.driver.images,
      hostObjects: opts.driver.hostObjects,
      engineIdOf: (containerId) => this.reconciler?.engineIdOf(containerId) ?? null,
      send: (frame) => this.link.send(frame),
      isCongested: () => this.link.congested,
      clock: this.clock,
      log: opts.log,
      ...(opts.operationLimits ? { limits: opts.operationLimits } : {}),
      upgrade: (request, signal) => this.stageUpgrade(request, signal),
    });
  }

  /** Downloads and verifies the central's binary beside our own; the switch happens after the result is sent. */
  private async stageUpgrade(
    request: { sha256: string; version: string },
    signal: AbortSignal,
  ): Promise<{ bytes: number }> {
    const upgrade = this.opts.selfUpgrade;
    if (!upgrade?.executable) {
      throw new OperationError(
        "unsupported",
        "this agent is not running as the built executable (fleet-agent-linux-x64), so it cannot replace itself; install the central's binary on this host by hand",
      );
    }
    if (this.upgrading) throw new OperationError("conflict", "an upgrade of this agent is already under way");
    this.upgrading = true;
    const path = `${upgrade.executable}.new`;
    try {
      const { bytes } = await downloadVerifiedBinary({
        serverUrl: this.opts.config.serverUrl,
        serverPin: this.serverPin,
        caPem: this.opts.caPem ?? null,
        sha256: request.sha256,
        destination: path,
        timeoutMs: upgrade.downloadTimeoutMs ?? 120_000,
        signal,
      });
      this.log.info({ path, bytes, version: request.version }, "new agent binary verified and staged");
      // Late enough for the result frame to be on the wire before the link closes.
      this.clock.setTimeout(() => upgrade.onStaged({ path, version: request.version }), 500);
      return { bytes };
    } catch (error) {
      this.upgrading = false;
      if (error instanceof OperationError) throw error;
      throw new OperationError("invalid", `upgrade refused: ${(error as Error).message}`);
    }
  }

  /** Settles when the agent ends on its own: rejects with the fatal error (e.g. a refused join token). */
  get done(): Promise<void> {
    return this.link.done;
  }

  get isConnected(): boolean {
    return this.link.isReady;
  }

  /** The reconciler, once the host id is known. */
  get containers(): Reconciler | null {
    return this.reconciler;
  }

  /**
   * Reads the stored credential, waits for the engine, adopts the containers
   * it runs (when the host id is already known) and dials the central.
   * Throws StateStoreError when there is neither a credential nor a join token.
   */
  async start(): Promise<void> {
    const { store, config } = this.opts;
    const stored = await store.loadCredential();
    const { auth, warning } = chooseAuth(stored, config, store.credentialPath);
    if (warning) this.log.warn(warning);
    this.auth = auth;
    this.serverPin = chooseServerPin(stored, auth, {
      serverUrl: config.serverUrl,
      serverPin: config.serverPin ?? null,
    });
    this.storedPin = auth.kind === "credential" ? (stored?.serverPin ?? null) : null;
    if (this.serverPin) this.log.info({ serverPin: this.serverPin }, "the central's key is pinned");
    this.fingerprint = await this.waitForEngine();
    if (auth.kind === "credential") await this.becomeHost(auth.hostId);
    this.watchEngineEvents();
    await this.opts.kernelOoms
      ?.start((oom) => this.oom.noteKernelOom(oom.engineId, oom.ts))
      .then((watching) => {
        if (!watching)
          this.log.warn(
            "kernel log not readable: OOM kills are known from the engine and cgroup counters only",
          );
      });
    this.scheduleMetrics();
    this.link.start();
  }

  /** Stops sending, closes the link cleanly, lets go of every container (they keep running). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info("shutting down; containers keep running");
    this.lifetime.abort(new Error("agent stopping"));
    if (this.metricsTimer) this.clock.clearTimeout(this.metricsTimer);
    this.metricsTimer = null;
    this.operations.abortAll();
    await this.reconciler?.shutdown();
    await this.opts.kernelOoms?.stop().catch(() => {});
    await this.link.stop();
  }

  // ---- start-up ------------------------------------------------------------

  private async waitForEngine(): Promise<DriverFingerprint> {
    const backoff = new ExponentialBackoff({ ...ENGINE_RETRY, jitter: "none" });
    for (;;) {
      try {
        const fingerprint = await this.opts.driver.containers.fingerprint();
        this.log.info(
          { engine: fingerprint.engine, cgroupVersion: fingerprint.cgroupVersion },
          "container engine ready",
        );
        return fingerprint;
      } catch (error) {
        const delay = backoff.nextDelayMs();
        this.log.error({ err: error, retryInMs: delay }, "container engine not reachable; retrying");
        await sleep(this.clock, delay, this.lifetime.signal);
      }
    }
  }

  /** The host id is known: build the reconciler and adopt what the engine runs for this host. */
  private async becomeHost(hostId: string): Promise<void> {
    if (this.reconciler) {
      if (this.hostId !== hostId) {
        this.log.error(
          { stored: this.hostId, welcomed: hostId },
          "the central welcomed this agent under another host id; keeping the first",
        );
      }
      return;
    }
    this.hostId = hostId;
    const reporter: SupervisorReporter = {
      status: (frame) => this.link.send(frame),
      event: (frame) => this.link.send(frame),
    };
    const deps: SupervisorDeps = {
      containers: this.opts.driver.containers,
      clock: this.clock,
      hostId,
      tuning: { ...DEFAULT_RESTART_TUNING, ...this.opts.restartTuning },
      reporter,
      oom: this.oom,
      images: this.images,
      bindMounts: new BindMountPolicy(),
      health: new RuntimeHealthProber(this.opts.driver.containers),
      log: this.log.child({ component: "supervisor" }),
    };
    const reconciler = new Reconciler({
      deps,
      onAck: (generation) => this.link.send({ type: "ack", generation }),
      persistDesired: (frame) => this.opts.store.saveDesired(frame),
    });
    this.reconciler = reconciler;
    await reconciler.recover(await this.opts.store.loadDesired());
  }

  private async onWelcome(welcome: TWelcomeFrame, used: TAgentAuth): Promise<void> {
    // A new credential is stored with the pin it was issued under; a pin given
    // anew (--server-pin) for a stored credential is stored once it proved right.
    const credential = welcome.credential
      ? { hostId: welcome.hostId, credential: welcome.credential }
      : used.kind === "credential" && this.serverPin !== null && this.serverPin !== this.storedPin
        ? { hostId: used.hostId, credential: used.credential }
        : null;
    if (credential) {
      this.auth = { kind: "credential", ...credential };
      try {
        await this.opts.store.saveCredential({
          serverUrl: this.opts.config.serverUrl,
          ...credential,
          serverPin: this.serverPin,
        });
        this.storedPin = this.serverPin;
        this.log.info(
          { hostId: welcome.hostId, path: this.opts.store.credentialPath, serverPin: this.serverPin },
          welcome.credential
            ? "joined the fleet; credential stored"
            : "the central's pin stored with the credential",
        );
      } catch (error) {
        // Keep going on the in-memory credential; the next restart would need a new join token.
        this.log.error(
          { err: error, path: this.opts.store.credentialPath },
          "could not store the host credential",
        );
      }
    } else if (used.kind === "join") {
      this.log.warn("the central welcomed a join without handing out a credential");
    }
    await this.becomeHost(welcome.hostId);
    if (welcome.settings.metricsIntervalMs !== this.metricsIntervalMs) {
      this.log.info(
        { from: this.metricsIntervalMs, to: welcome.settings.metricsIntervalMs },
        "metrics interval set by the central",
      );
      this.metricsIntervalMs = welcome.settings.metricsIntervalMs;
      this.scheduleMetrics();
    }
  }

  private async helloBody() {
    const fp = this.fingerprint ?? (await this.opts.driver.containers.fingerprint());
    const { config, agentVersion } = this.opts;
    return {
      name: config.name,
      facts: {
        hostname: hostname().slice(0, 253) || config.name,
        cpus: Math.max(1, Math.round(fp.cpus)),
        memoryBytes: fp.memoryBytes,
        kernel: fp.kernel.slice(0, 256) || "unknown",
        os: fp.os.slice(0, 256) || "unknown",
        arch: fp.arch.slice(0, 64) || "unknown",
        cgroupVersion: fp.cgroupVersion,
        engine: fp.engine,
        agentVersion,
        labels: config.labels,
      },
      reserve: { cpuMillis: config.reserveCpuMillis, memoryBytes: config.reserveMemoryBytes },
      agentVersion,
    };
  }

  // ---- background loops ----------------------------------------------------

  private watchEngineEvents(): void {
    const backoff = new ExponentialBackoff({ ...ENGINE_RETRY, jitter: "none" });
    const signal = this.lifetime.signal;
    const run = async () => {
      while (!signal.aborted) {
        try {
          for await (const event of this.opts.driver.containers.events(signal)) {
            backoff.reset();
            if (event.kind === "oom") this.oom.noteEngineOom(event.engineId, event.ts.getTime());
          }
        } catch (error) {
          if (signal.aborted) return;
          this.log.warn({ err: error }, "engine event stream broke; reopening");
        }
        if (signal.aborted) return;
        await sleep(this.clock, backoff.nextDelayMs(), signal).catch(() => {});
      }
    };
    void run();
  }

  private scheduleMetrics(): void {
    if (!this.opts.metrics || this.stopping) return;
    if (this.metricsTimer) this.clock.clearTimeout(this.metricsTimer);
    this.metricsTimer = this.clock.setTimeout(() => {
      this.metricsTimer = null;
      void this.sampleOnce().finally(() => this.scheduleMetrics());
    }, this.metricsIntervalMs);
  }

  /** One sweep: sample every running container and the host, feed the OOM counters, hand the batch to the link. */
  async sampleOnce(): Promise<void> {
    const metrics = this.opts.metrics;
    if (!metrics || this.sampling || this.stopping) return;
    this.sampling = true;
    try {
      const sweep = await metrics.sample(this.reconciler?.sampleTargets() ?? []);
      // One odd reading must not make the central refuse the whole batch.
      const containers = sweep.containers.filter((sample) => this.validSample(ZContainerSample, sample));
      const host = sweep.host && this.validSample(ZHostSample, sweep.host) ? sweep.host : null;
      for (const sample of containers) this.oom.noteOomCounter(sample.containerId, sample.oomKills);
      if (containers.length > 0 || host) this.link.sendMetrics({ containers, host });
    } catch (error) {
      this.log.warn({ err: error }, "metrics sweep failed");
    } finally {
      this.sampling = false;
    }
  }

  private validSample(schema: typeof ZContainerSample | typeof ZHostSample, sample: unknown): boolean {
    const parsed = schema.safeParse(sample);
    if (!parsed.success)
      this.log.warn({ sample, issues: parsed.error.issues }, "metrics sample left out: out of range");
    return parsed.success;
  }
}
