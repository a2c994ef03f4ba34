/**
 * The agent's restart policy, enforced by the agent rather than the engine so
 * Docker and Podman behave the same and restarts are visible as events. Pure
 * decisions plus a tracker of restart history; time comes from the caller.
 */
import type { TRestartPolicy } from "@fleet/shared/domain/container-spec";
import { ExponentialBackoff } from "../backoff";

export interface RestartTuning {
  /** First restart delay; doubles per restart. */
  initialBackoffMs: number;
  /** Cap of the restart delay, and the delay used while crash-looping. */
  maxBackoffMs: number;
  /** A run this long counts as healthy: the backoff and the crash-loop window start over. */
  stableRunMs: number;
  /** This many restarts within `crashloopWindowMs` and the container is reported as crash-looping. */
  crashloopRestarts: number;
  crashloopWindowMs: number;
  /** Grace given to a container's process on stop before the engine kills it. */
  stopTimeoutSeconds: number;
  /**
   * How long an exit with SIGKILL's code (137) waits for the kernel log to name
   * an OOM kill before it is reported; the OOM watcher polls the log.
   */
  oomSettleMs: number;
}

export const DEFAULT_RESTART_TUNING: RestartTuning = {
  initialBackoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  stableRunMs: 10 * 60_000,
  crashloopRestarts: 5,
  crashloopWindowMs: 10 * 60_000,
  stopTimeoutSeconds: 10,
  oomSettleMs: 750,
};

export type TRestartDecision = { restart: true } | { restart: false; reason: string };

/** Why the container is no longer running: it exited, or the agent stopped it for failing its health check. */
export type TStopCause = "exit" | "unhealthy";

/**
 * Whether a container that exited with `exitCode` after `restartsSoFar`
 * restarts should run again. One stopped for being unhealthy (the spec's
 * `restartOnUnhealthy` asked for it) always counts as a failure, whatever its
 * process answered the stop with: it restarts even under `no`, and counts
 * against `on-failure:N`.
 */
export function decideRestart(
  policy: TRestartPolicy,
  exitCode: number | null,
  restartsSoFar: number,
  cause: TStopCause = "exit",
): TRestartDecision {
  switch (policy.name) {
    case "no":
      if (cause === "unhealthy") return { restart: true };
      return { restart: false, reason: "restart policy is no" };
    case "always":
      return { restart: true };
    case "on-failure": {
      if (exitCode === 0 && cause === "exit")
        return { restart: false, reason: "exited successfully (restart policy on-failure)" };
      if (policy.maxRetries !== undefined && restartsSoFar >= policy.maxRetries) {
        return {
          restart: false,
          reason: `gave up after ${restartsSoFar} restart${restartsSoFar === 1 ? "" : "s"} (restart policy on-failure:${policy.maxRetries})`,
        };
      }
      return { restart: true };
    }
  }
}

export interface TRestartPlan {
  delayMs: number;
  /** Restarting too often: reported as `crashloop`, retried at the cap. */
  crashloop: boolean;
}

/** Restart history of one container: exponential delays, reset by a stable run, and crash-loop detection. */
export class RestartTracker {
  private readonly backoff: ExponentialBackoff;
  private recent: number[] = [];

  constructor(private readonly tuning: RestartTuning) {
    this.backoff = new ExponentialBackoff({
      initialMs: tuning.initialBackoffMs,
      maxMs: tuning.maxBackoffMs,
      jitter: "none",
    });
  }

  /**
   * Plans the next restart after an exit at `now` of a run that started at
   * `runStartedAt` (null when the run never started, e.g. the restart itself failed).
   */
  plan(now: number, runStartedAt: number | null): TRestartPlan {
    if (runStartedAt !== null && now - runStartedAt >= this.tuning.stableRunMs) {
      this.backoff.reset();
      this.recent = [];
    }
    this.recent = this.recent.filter((at) => now - at < this.tuning.crashloopWindowMs);
    const crashloop = this.recent.length >= this.tuning.crashloopRestarts;
    const delayMs = this.backoff.nextDelayMs();
    this.recent.push(now);
    return { delayMs: crashloop ? this.tuning.maxBackoffMs : delayMs, crashloop };
  }
}
