import { describe, expect, it } from "vitest";
import { WriteQueue, type WriteQueueOptions } from "./write-queue";

interface Writer {
  batches: number[][];
  /** Each pending write; resolve(n) finishes it, reject fails it. */
  pending: { rows: number[]; resolve(n: number): void; reject(error: Error): void }[];
}

function queueWith(options: Partial<WriteQueueOptions<number>> = {}): {
  queue: WriteQueue<number>;
  writer: Writer;
} {
  const writer: Writer = { batches: [], pending: [] };
  const queue = new WriteQueue<number>({
    flushIntervalMs: 1_000_000,
    flushRows: 1000,
    maxRowsPerInsert: 1000,
    concurrency: 1,
    highWaterRows: 10_000,
    maxQueuedRows: 20_000,
    write: (rows) =>
      new Promise<number>((resolve, reject) => {
        writer.batches.push(rows);
        writer.pending.push({ rows, resolve, reject });
      }),
    ...options,
  });
  return { queue, writer };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("WriteQueue", () => {
  it("waits for a flush or the row threshold, then writes many enqueues as one batch", async () => {
    const { queue, writer } = queueWith({ flushRows: 10 });
    await queue.enqueue([1, 2, 3]);
    await queue.enqueue([4, 5]);
    expect(writer.batches).toEqual([]);
    const flushed = queue.flush();
    expect(writer.batches).toEqual([[1, 2, 3, 4, 5]]);
    writer.pending[0]?.resolve(5);
    await flushed;
    expect(queue.stats()).toMatchObject({
      queuedRows: 0,
      writtenRows: 5,
      insertedRows: 5,
      batchesWritten: 1,
    });

    await queue.enqueue(range(100, 12));
    expect(writer.batches[1]).toEqual(range(100, 12));
  });

  it("splits large backlogs into statements of maxRowsPerInsert, concurrency at a time", async () => {
    const { queue, writer } = queueWith({ maxRowsPerInsert: 4, concurrency: 2 });
    await queue.enqueue(range(0, 10));
    const flushed = queue.flush();
    expect(writer.batches).toEqual([range(0, 4), range(4, 4)]);
    writer.pending[0]?.resolve(4);
    await settle();
    expect(writer.batches[2]).toEqual([8, 9]);
    writer.pending[1]?.resolve(4);
    writer.pending[2]?.resolve(2);
    await flushed;
    expect(queue.stats().writtenRows).toBe(10);
  });

  it("holds back callers above the high-water mark until rows drain", async () => {
    const { queue, writer } = queueWith({ highWaterRows: 5, flushRows: 100 });
    let released = false;
    const waiting = queue.enqueue(range(0, 8)).then(() => {
      released = true;
    });
    await settle();
    expect(released).toBe(false);
    void queue.flush();
    await waiting;
    expect(released).toBe(true);
    writer.pending[0]?.resolve(8);
  });

  it("drops the oldest rows beyond maxQueuedRows and counts them", async () => {
    const { queue, writer } = queueWith({ maxQueuedRows: 5, highWaterRows: 100, flushRows: 100 });
    void queue.enqueue(range(0, 4));
    void queue.enqueue(range(4, 4));
    expect(queue.stats()).toMatchObject({ queuedRows: 5, droppedRows: 3 });
    const flushed = queue.flush();
    expect(writer.batches).toEqual([[3, 4, 5, 6, 7]]);
    writer.pending[0]?.resolve(5);
    await flushed;
  });

  it("counts entries by their weight and never splits one", async () => {
    // An entry of weight n stands for n rows (a frame's samples, encoded together).
    const writer: { batches: number[][]; pending: ((n: number) => void)[] } = { batches: [], pending: [] };
    const queue = new WriteQueue<number>({
      flushIntervalMs: 1_000_000,
      flushRows: 100,
      maxRowsPerInsert: 5,
      concurrency: 1,
      highWaterRows: 100,
      maxQueuedRows: 12,
      weight: (n) => n,
      write: (rows) =>
        new Promise<number>((resolve) => {
          writer.batches.push(rows);
          writer.pending.push(resolve);
        }),
    });
    void queue.enqueue([3, 1]);
    expect(queue.stats().queuedRows).toBe(4);
    // 13 is one past maxQueuedRows: the oldest entry goes, whole.
    void queue.enqueue([4, 5]);
    expect(queue.stats()).toMatchObject({ queuedRows: 10, droppedRows: 3 });
    const flushed = queue.flush();
    // Whole entries until a statement reaches maxRowsPerInsert: 1 + 4, then 5.
    expect(writer.batches).toEqual([[1, 4]]);
    writer.pending[0]?.(5);
    await settle();
    expect(writer.batches[1]).toEqual([5]);
    writer.pending[1]?.(5);
    await flushed;
    expect(queue.stats()).toMatchObject({
      writtenRows: 10,
      insertedRows: 10,
      queuedRows: 0,
      inFlightRows: 0,
    });
  });

  it("retries a failed batch before new rows, and drops it after maxAttempts", async () => {
    const errors: { attempt: number; dropped: boolean }[] = [];
    const { queue, writer } = queueWith({
      maxAttempts: 2,
      onError: (_error, context) => errors.push({ attempt: context.attempt, dropped: context.dropped }),
    });
    await queue.enqueue([1, 2]);
    void queue.flush();
    writer.pending[0]?.reject(new Error("database down"));
    await settle();
    await queue.enqueue([3]);
    const flushed = queue.flush();
    // The failed batch goes first, alone; the new row waits behind it.
    expect(writer.batches[1]).toEqual([1, 2]);
    writer.pending[1]?.reject(new Error("still down"));
    await settle();
    expect(writer.batches[2]).toEqual([3]);
    writer.pending[2]?.resolve(1);
    await flushed;
    expect(errors).toEqual([
      { attempt: 1, dropped: false },
      { attempt: 2, dropped: true },
    ]);
    expect(queue.stats()).toMatchObject({ failedRows: 2, failedWrites: 2, writtenRows: 1, queuedRows: 0 });
  });

  it("keeps retrying a batch past maxAttempts while keepRetrying says so, then writes it", async () => {
    const errors: { attempt: number; dropped: boolean }[] = [];
    const asked: number[] = [];
    const { queue, writer } = queueWith({
      maxAttempts: 2,
      keepRetrying: (_error, failingForMs) => {
        asked.push(failingForMs);
        return true;
      },
      onError: (_error, context) => errors.push({ attempt: context.attempt, dropped: context.dropped }),
    });
    await queue.enqueue([1, 2]);
    const flushed = queue.flush();
    for (let attempt = 0; attempt < 5; attempt++) {
      writer.pending[attempt]?.reject(new Error("Connection terminated unexpectedly"));
      await settle();
      void queue.flush();
    }
    expect(writer.batches).toHaveLength(6);
    writer.pending[5]?.resolve(2);
    await flushed;
    expect(errors.every((error) => !error.dropped)).toBe(true);
    expect(errors).toHaveLength(5);
    expect(asked[0]).toBe(0);
    expect(queue.stats()).toMatchObject({ failedRows: 0, writtenRows: 2, insertedRows: 2, queuedRows: 0 });
  });

  it("paces held retries and drops the batch once keepRetrying gives up", async () => {
    let holding = true;
    const { queue, writer } = queueWith({ maxAttempts: 1, keepRetrying: () => holding, flushIntervalMs: 10 });
    queue.start();
    try {
      await queue.enqueue([1]);
      void queue.flush();
      writer.pending[0]?.reject(new Error("down"));
      await settle();
      // The timer ticks every 10 ms, but a held retry waits 250 ms first.
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(writer.batches).toHaveLength(1);
      await expect.poll(() => writer.batches.length, { timeout: 1000 }).toBe(2);
      holding = false;
      writer.pending[1]?.reject(new Error("down"));
      await expect.poll(() => queue.stats().failedRows).toBe(1);
    } finally {
      queue.stop();
    }
  });

  it("flushes on its own timer once started", async () => {
    const { queue, writer } = queueWith({ flushIntervalMs: 10 });
    queue.start();
    try {
      await queue.enqueue([1]);
      await expect.poll(() => writer.batches.length).toBe(1);
      writer.pending[0]?.resolve(1);
    } finally {
      queue.stop();
    }
  });
});
