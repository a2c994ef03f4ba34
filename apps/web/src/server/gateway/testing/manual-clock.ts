// A clock that moves only when a test says so. Due timers fire in order while
// `advance` walks forward, with the microtask queue flushed between them so
// the async work a timer starts settles before the next one fires.
import type { Clock, TimerHandle } from "../../clock";

interface PendingTimer {
  id: number;
  due: number;
  fn: () => void;
}

/** Lets already-settled promise chains run (each macrotask turn drains the microtasks). */
export function flushAsync(turns = 3): Promise<void> {
  let chain = Promise.resolve();
  for (let i = 0; i < turns; i++) chain = chain.then(() => new Promise<void>((r) => setImmediate(r)));
  return chain;
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
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  get pendingCount(): number {
    return this.timers.length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushAsync();
    for (;;) {
      const next = this.timers
        .filter((timer) => timer.due <= target)
        .sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.current = next.due;
      next.fn();
      await flushAsync();
    }
    this.current = target;
    await flushAsync();
  }
}
