/**
 * Level-triggered reconciliation: each `desired` frame is the whole set of
 * containers this host should hold, each `running` or `stopped`. The
 * reconciler removes what is no longer listed; for `running` entries it
 * replaces what changed (its spec hash label differs), creates what is
 * missing, starts again what was stopped and leaves alone what matches; for
 * `stopped` entries it stops what runs and keeps it (a changed spec waits
 * until the container runs again; a missing one is not created). Then it
 * acknowledges the generation.
 * Snapshots that arrive while one is being applied are coalesced: only the
 * newest is applied next.
 *
 * Each set also carries the allowed bind mount prefixes, which every
 * container creation from then on is checked against (see
 * supervisor/bind-mount-policy.ts); running containers are left as they are.
 *
 * On start it adopts the managed containers the engine already runs (an agent
 * restart restarts nothing). Until the first snapshot after a (re)start has
 * arrived it removes nothing: what the central wants is not known yet.
 */
import type { TContainerSpec } from "@fleet/shared/domain/container-spec";
import type { TDesiredRunState } from "@fleet/shared/domain/container-state";
import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import type { TContainerStatusFrame } from "@fleet/shared/protocol/agent-to-server";
import type { TDesiredContainer, TDesiredFrame } from "@fleet/shared/protocol/server-to-agent";
import type { ManagedContainer } from "./runtime/container-driver";
import { ContainerSupervisor, type SupervisorDeps } from "./supervisor/container-supervisor";

interface DesiredEntry {
  spec: TContainerSpec;
  hash: string;
  runState: TDesiredRunState;
}

/** The spec without the run state, which is not the spec's (and not in its hash). */
function entryOf(container: TDesiredContainer): DesiredEntry {
  const { runState, ...spec } = container;
  return { spec, hash: hashContainerSpec(spec), runState };
}

export interface ReconcilerOptions {
  deps: SupervisorDeps;
  /** Called once a generation has been applied. */
  onAck: (generation: number) => void;
  /** Keeps the last applied snapshot (for restart policies after an agent restart); failures are only logged. */
  persistDesired?: (frame: TDesiredFrame) => Promise<void>;
}

export class Reconciler {
  private readonly supervisors = new Map<string, ContainerSupervisor>();
  /** Extra engine containers claiming an already adopted Fleet id; removed with the first snapshot. */
  private strays: ManagedContainer[] = [];
  private pending: TDesiredFrame | null = null;
  private loop: Promise<void> | null = null;
  private recovered = false;
  private stopped = false;
  private lastAcked: number | null = null;
  private appliedCount = 0;

  constructor(private readonly opts: ReconcilerOptions) {}

  /** The last generation applied since this agent started, or null before the first. */
  get ackedGeneration(): number | null {
    return this.lastAcked;
  }

  /** How many snapshots have been applied since start (coalesced ones are not counted). */
  get snapshotsApplied(): number {
    return this.appliedCount;
  }

  get containerCount(): number {
    return this.supervisors.size;
  }

  /**
   * Adopts the managed containers of this host found in the engine. `cached`
   * is the last snapshot the previous run applied: it supplies the specs (and
   * so the restart policies) of adopted containers whose hash still matches,
   * and which of them were held stopped (those stay stopped).
   */
  async recover(cached: TDesiredFrame | null): Promise<void> {
    const { containers, hostId, log } = this.opts.deps;
    // Containers recreated before the central's first set follow the last set's policy.
    this.opts.deps.bindMounts.update(cached?.bindMountPrefixes ?? []);
    const found = await containers.recover();
    const specs = new Map<string, DesiredEntry>();
    for (const container of cached?.containers ?? []) specs.set(container.id, entryOf(container));

    const byId = new Map<string, ManagedContainer[]>();
    for (const container of found) {
      if (container.hostId !== hostId) {
        log.warn(
          { engineId: container.engineId, containerHostId: container.hostId, hostId },
          "managed container belongs to another host id; leaving it alone",
        );
        continue;
      }
      const list = byId.get(container.containerId) ?? [];
      list.push(container);
      byId.set(container.containerId, list);
    }
    for (const [containerId, copies] of byId) {
      // Prefer the running copy, then the most recently started one.
      copies.sort(
        (a, b) =>
          Number(b.running) - Number(a.running) ||
          (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0),
      );
      const [keep, ...rest] = copies as [ManagedContainer, ...ManagedContainer[]];
      this.strays.push(...rest);
      const known = specs.get(containerId);
      const spec = known && known.hash === keep.specHash ? known.spec : null;
      this.supervisors.set(
        containerId,
        ContainerSupervisor.adopt(this.opts.deps, keep, spec, known?.runState ?? "running"),
      );
    }
    log.info({ adopted: this.supervisors.size, strays: this.strays.length }, "recovered managed containers");
    this.recovered = true;
    this.kick();
  }

  /** Queues a snapshot; one arriving while another is applied replaces any still waiting. */
  submit(frame: TDesiredFrame): void {
    if (this.stopped) return;
    if (this.pending) {
      this.opts.deps.log.debug(
        { skipped: this.pending.generation, next: frame.generation },
        "coalescing desired snapshots",
      );
    }
    this.pending = frame;
    this.kick();
  }

  /** Resolves once nothing is being applied and nothing waits. */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Running containers and their init pids, for the metrics sampler. */
  sampleTargets(): { containerId: string; pid: number }[] {
    const targets: { containerId: string; pid: number }[] = [];
    for (const sup of this.supervisors.values()) {
      const target = sup.sampleTarget();
      if (target) targets.push(target);
    }
    return targets;
  }

  /** The current status of every supervised container (resent after each reconnect). */
  statusFrames(): TContainerStatusFrame[] {
    return [...this.supervisors.values()].map((sup) => sup.statusFrame());
  }

  engineIdOf(containerId: string): string | null {
    return this.supervisors.get(containerId)?.engineId ?? null;
  }

  /** Agent shutdown: stop applying and let every container keep running untouched. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.pending = null;
    for (const sup of this.supervisors.values()) sup.detach();
    await this.loop?.catch(() => {});
  }

  private kick(): void {
    if (this.loop || !this.recovered || this.stopped || !this.pending) return;
    const run = this.drain().finally(() => {
      if (this.loop === run) this.loop = null;
      // A snapshot may have arrived between the last check and now.
      this.kick();
    });
    this.loop = run;
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      const frame = this.pending;
      this.pending = null;
      try {
        await this.apply(frame);
      } catch (error) {
        // Not acked: the next snapshot (or the same one resent on reconnect) tries again.
        this.opts.deps.log.error(
          { err: error, generation: frame.generation },
          "applying desired snapshot failed",
        );
      }
    }
  }

  private async apply(frame: TDesiredFrame): Promise<void> {
    const { log } = this.opts.deps;
    // Before any launch of this set, and for launches still retrying from earlier ones.
    this.opts.deps.bindMounts.update(frame.bindMountPrefixes);
    const desired = new Map<string, DesiredEntry>();
    for (const container of frame.containers) desired.set(container.id, entryOf(container));

    const removals: Promise<void>[] = [];
    for (const [containerId, sup] of this.supervisors) {
      if (!desired.has(containerId))
        removals.push(this.removeSupervisor(containerId, sup, "no longer desired"));
    }
    for (const stray of this.strays.splice(0)) removals.push(this.removeStray(stray));
    await Promise.all(removals);

    const launches: Promise<void>[] = [];
    for (const [containerId, { spec, hash, runState }] of desired) {
      if (this.stopped) return;
      const current = this.supervisors.get(containerId);
      if (runState === "stopped") {
        // Kept as it is, even with an older spec: its logs stay readable, and a
        // later `running` replaces it if the spec still differs then.
        if (current) {
          launches.push(current.stop());
          if (current.specHash === hash && !current.hasSpec) current.provideSpec(spec);
        }
        continue;
      }
      if (current && current.specHash === hash) {
        if (!current.hasSpec) current.provideSpec(spec);
        if (current.isKeptStopped) launches.push(current.start());
        continue;
      }
      launches.push(
        (async () => {
          if (current) await this.removeSupervisor(containerId, current, "spec changed; replacing it");
          if (this.stopped || this.supervisors.has(containerId)) return;
          const sup = ContainerSupervisor.create(this.opts.deps, spec, hash);
          this.supervisors.set(containerId, sup);
          await sup.ready;
        })(),
      );
    }
    const results = await Promise.allSettled(launches);
    for (const result of results) {
      if (result.status === "rejected") log.error({ err: result.reason }, "reconciling a container failed");
    }
    if (this.stopped) return;

    this.lastAcked = frame.generation;
    this.appliedCount++;
    this.opts.onAck(frame.generation);
    log.info(
      {
        generation: frame.generation,
        containers: desired.size,
        stopped: [...desired.values()].filter((entry) => entry.runState === "stopped").length,
      },
      "desired snapshot applied",
    );
    await this.opts.persistDesired?.(frame).catch((error: unknown) => {
      log.warn({ err: error }, "could not keep the desired snapshot on disk");
    });
  }

  private async removeSupervisor(
    containerId: string,
    sup: ContainerSupervisor,
    reason: string,
  ): Promise<void> {
    try {
      await sup.remove(reason);
      if (this.supervisors.get(containerId) === sup) this.supervisors.delete(containerId);
    } catch (error) {
      // Kept in the map so the next snapshot tries again; the supervisor reported `failed`.
      this.opts.deps.log.error({ err: error, containerId }, "could not remove container");
    }
  }

  private async removeStray(stray: ManagedContainer): Promise<void> {
    const { containers, tuning, log } = this.opts.deps;
    try {
      if (stray.running) await containers.stop(stray.engineId, tuning.stopTimeoutSeconds);
      await containers.destroy(stray.engineId);
      log.info(
        { engineId: stray.engineId, containerId: stray.containerId },
        "removed duplicate managed container",
      );
    } catch (error) {
      log.error({ err: error, engineId: stray.engineId }, "could not remove duplicate managed container");
      this.strays.push(stray);
    }
  }
}
