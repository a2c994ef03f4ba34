/**
 * Decides whether a container's exit was an OOM kill, from three sources, so
 * the answer is the same on Docker and on Podman 4 (which never reports one):
 *
 * - the engine: `oomKilled` on the exit, or an `oom` engine event;
 * - the kernel log: the OOM watcher names the killed task's memcg, which maps
 *   to the engine id;
 * - the cgroup's `oom_kill` counter, seen by the metrics sampler, having risen
 *   during the run.
 *
 * Any one of them is enough. Engines delete the cgroup on exit, so the counter
 * only helps when a sample was taken after the kill; the kernel log covers the
 * rest.
 */

export type TOomSource = "engine" | "kernel-log" | "cgroup-counter";

interface RunCounter {
  /** oom_kill at the start of the run; null until the first sample of an adopted container. */
  baseline: number | null;
  latest: number | null;
}

export class OomTracker {
  private readonly kernel = new Map<string, number[]>();
  private readonly engine = new Map<string, number[]>();
  private readonly counters = new Map<string, RunCounter>();

  /** The kernel log named this container's memcg in an OOM kill. */
  noteKernelOom(engineId: string, ts: number): void {
    push(this.kernel, engineId, ts);
  }

  /** The engine emitted an `oom` event for this container. */
  noteEngineOom(engineId: string, ts: number): void {
    push(this.engine, engineId, ts);
  }

  /** A metrics sample's `oomKills` for a running container. */
  noteOomCounter(containerId: string, oomKills: number): void {
    const run = this.counters.get(containerId);
    if (!run) return;
    if (run.baseline === null) run.baseline = oomKills;
    run.latest = oomKills;
  }

  /**
   * A new run begins. A fresh cgroup (create or restart) counts from zero; for
   * an adopted container the first sample becomes the baseline, since kills
   * before the agent saw it were the engine's to report.
   */
  runStarted(containerId: string, engineId: string, freshCgroup: boolean): void {
    this.kernel.delete(engineId);
    this.engine.delete(engineId);
    this.counters.set(containerId, { baseline: freshCgroup ? 0 : null, latest: null });
  }

  /** Which sources say the run that just ended was OOM-killed; consumes what was recorded for it. */
  exitSources(containerId: string, engineId: string, engineSaysOom: boolean): TOomSource[] {
    const sources: TOomSource[] = [];
    if (engineSaysOom || (this.engine.get(engineId)?.length ?? 0) > 0) sources.push("engine");
    if ((this.kernel.get(engineId)?.length ?? 0) > 0) sources.push("kernel-log");
    const run = this.counters.get(containerId);
    if (run && run.baseline !== null && run.latest !== null && run.latest > run.baseline) {
      sources.push("cgroup-counter");
    }
    return sources;
  }

  /** Whether the kernel or the engine already reported an OOM for this container since its run started. */
  hasPendingEvidence(containerId: string, engineId: string): boolean {
    return this.exitSources(containerId, engineId, false).length > 0;
  }

  forget(containerId: string, engineId: string | null): void {
    this.counters.delete(containerId);
    if (engineId) {
      this.kernel.delete(engineId);
      this.engine.delete(engineId);
    }
  }
}

function push(map: Map<string, number[]>, key: string, ts: number): void {
  const list = map.get(key) ?? [];
  // A bound, in case a container OOMs in a loop without exiting (a child killed each time).
  if (list.length < 64) list.push(ts);
  map.set(key, list);
}
