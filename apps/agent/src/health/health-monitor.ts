/**
 * Runs one container's health check for one run of it (a restart gets a new
 * monitor): the first check one interval after the start, the next one an
 * interval after the previous settled or timed out (Docker's pace), each
 * bounded by the timeout on the clock, which counts as a failure and aborts
 * the probe. Never two probes at once: a probe that has not settled after its
 * abort by the next tick makes that tick a failure instead of a second probe,
 * so a check that hangs still leads to `unhealthy` and nothing piles up.
 *
 * How a check is made is the probe's business (health-prober.ts); this file
 * knows only time and the verdict (health-state.ts).
 */
import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { THealthCheck } from "@fleet/shared/domain/container-spec";
import { afterCheck, type HealthVerdict, type ProbeOutcome, STARTING } from "./health-state";

export interface HealthMonitorOptions {
  check: THealthCheck;
  clock: Clock;
  /** When this run of the container started (epoch ms): the start period counts from here. */
  startedAt: number;
  /** Makes one check; should settle soon after `signal` aborts (then its outcome is ignored). */
  probe: (signal: AbortSignal) => Promise<ProbeOutcome>;
  /** The health changed (not called for a new message under the same health). */
  onChange: (verdict: HealthVerdict) => void;
}

export class HealthMonitor {
  private verdict: HealthVerdict = STARTING;
  private tickTimer: TimerHandle | null = null;
  private timeoutTimer: TimerHandle | null = null;
  /** The probe started last, until it settles (even after its timeout was counted). */
  private inFlight: AbortController | null = null;
  private stopped = false;

  constructor(private readonly opts: HealthMonitorOptions) {}

  get current(): HealthVerdict {
    return this.verdict;
  }

  start(): void {
    if (this.stopped || this.tickTimer !== null) return;
    this.scheduleTick();
  }

  /** For good: cancels the next check and aborts the one in flight. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const { clock } = this.opts;
    if (this.tickTimer !== null) clock.clearTimeout(this.tickTimer);
    if (this.timeoutTimer !== null) clock.clearTimeout(this.timeoutTimer);
    this.tickTimer = null;
    this.timeoutTimer = null;
    this.inFlight?.abort(new Error("health check cancelled: the container stopped"));
  }

  private scheduleTick(): void {
    // onChange may have stopped the monitor (an unhealthy container about to be restarted).
    if (this.stopped) return;
    this.tickTimer = this.opts.clock.setTimeout(() => {
      this.tickTimer = null;
      this.tick();
    }, this.opts.check.intervalMs);
  }

  private tick(): void {
    if (this.stopped) return;
    const { clock, check } = this.opts;
    const begunAt = clock.now();
    if (this.inFlight) {
      this.record(
        { ok: false, message: `the previous check is still running ${check.timeoutMs} ms past its timeout` },
        begunAt,
      );
      this.scheduleTick();
      return;
    }
    const abort = new AbortController();
    this.inFlight = abort;
    let counted = false;
    this.timeoutTimer = clock.setTimeout(() => {
      this.timeoutTimer = null;
      if (counted || this.stopped) return;
      counted = true;
      abort.abort(new Error("health check timed out"));
      this.record({ ok: false, message: `health check timed out after ${check.timeoutMs} ms` }, begunAt);
      this.scheduleTick();
    }, check.timeoutMs);
    let probing: Promise<ProbeOutcome>;
    try {
      probing = this.opts.probe(abort.signal);
    } catch (error) {
      probing = Promise.reject(error);
    }
    void probing
      .catch(
        (error: unknown): ProbeOutcome => ({
          ok: false,
          message: error instanceof Error ? error.message : String(error),
        }),
      )
      .then((outcome) => {
        if (this.inFlight === abort) this.inFlight = null;
        if (counted || this.stopped) return;
        counted = true;
        if (this.timeoutTimer !== null) clock.clearTimeout(this.timeoutTimer);
        this.timeoutTimer = null;
        this.record(outcome, begunAt);
        this.scheduleTick();
      });
  }

  private record(outcome: ProbeOutcome, begunAt: number): void {
    const previous = this.verdict;
    this.verdict = afterCheck(previous, outcome, this.opts.check, begunAt - this.opts.startedAt);
    if (this.verdict.health !== previous.health) this.opts.onChange(this.verdict);
  }
}
