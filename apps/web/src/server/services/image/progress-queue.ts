// A bounded hand-off between an operation's progress callback (pushed as
// frames arrive from the agent) and a subscription's generator (pulled as
// fast as the browser reads). Past `capacity` the oldest droppable items go,
// so a slow reader costs bounded memory; items pushed as not droppable (a
// host's final answer) are always kept. Used by image pulls and builds and by
// followed container logs.

export interface ProgressQueue<T> {
  /** Adds an item; returns how many items were dropped to make room (0 usually). */
  push(item: T, options?: { droppable?: boolean }): number;
  /** No more items: `next()` drains what is left, then reports done (or throws `error`). */
  end(error?: unknown): void;
  /**
   * The next item, or `done` once ended and drained or once `signal` aborts.
   * `dropped` counts items lost just before this one.
   */
  next(signal?: AbortSignal): Promise<{ done: false; value: T; dropped: number } | { done: true }>;
  readonly size: number;
}

interface Entry<T> {
  item: T;
  droppable: boolean;
  droppedBefore: number;
}

export function createProgressQueue<T>(capacity: number): ProgressQueue<T> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error("capacity must be a positive integer");
  const entries: Entry<T>[] = [];
  let ended = false;
  let failure: { error: unknown } | null = null;
  let pendingDrops = 0;
  let wake: (() => void) | null = null;

  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };

  return {
    get size() {
      return entries.length;
    },
    push(item, options) {
      if (ended) return 0;
      entries.push({ item, droppable: options?.droppable ?? true, droppedBefore: 0 });
      let dropped = 0;
      while (entries.length > capacity) {
        const index = entries.findIndex((entry) => entry.droppable);
        if (index === -1) break;
        const [gone] = entries.splice(index, 1);
        dropped++;
        // The next reader of this spot learns of this loss and of the ones the dropped item carried.
        const lost = 1 + (gone?.droppedBefore ?? 0);
        const following = entries[index];
        if (following) following.droppedBefore += lost;
        else pendingDrops += lost;
      }
      notify();
      return dropped;
    },
    end(error) {
      if (ended) return;
      ended = true;
      if (error !== undefined) failure = { error };
      notify();
    },
    async next(signal) {
      for (;;) {
        if (signal?.aborted) return { done: true };
        const entry = entries.shift();
        if (entry) {
          const dropped = entry.droppedBefore + pendingDrops;
          pendingDrops = 0;
          return { done: false, value: entry.item, dropped };
        }
        if (ended) {
          if (failure) throw failure.error;
          return { done: true };
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal?.addEventListener("abort", notify, { once: true });
        });
        signal?.removeEventListener("abort", notify);
      }
    },
  };
}
