/**
 * A clock that only moves when a test says so. Timers fire in due order while
 * `advance` walks time forward; between timers the microtask queue is flushed
 * so async work a timer started (an awaited driver call) settles before the
 * next timer fires — tests stay deterministic without real sleeping.
 */
import type { Clock, TimerHandle } from "../clock";

interface PendingTimer {
  id: number;
  due: number;
  fn: () => void;
}

/** Lets every already-settled promise chain run (a macrotask turn flushes all microtasks). */
export function flushAsync(turns = 3): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < turns; i++) p = p.then(() => new Promise<void>((r) => setImmediate(r)));
  return p;
}

export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers still waiting to fire. */
  get pendingCount(): number {
    return this.timers.length;
  }

  /** Delays (from now) of the timers still waiting, soonest first. */
  pendingDelays(): number[] {
    return this.timers.map((t) => t.due - this.current).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing due timers in order and letting async work settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushAsync();
    for (;;) {
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = next.due;
      next.fn();
      await flushAsync();
    }
    this.current = target;
    await flushAsync();
  }

  /** Fires the next pending timer (jumping time to it); returns false when none is pending. */
  async runNext(): Promise<boolean> {
    await flushAsync();
    const next = [...this.timers].sort((a, b) => a.due - b.due || a.id - b.id)[0];
    if (!next) return false;
    await this.advance(next.due - this.current);
    return true;
  }
}
