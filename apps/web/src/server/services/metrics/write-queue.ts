// Coalesces samples from every agent into few, large writes (COPYs). One agent
// sends a small batch every few seconds; a hundred agents doing so one by one
// would cost a round trip and a commit (with fsync on, a flush of the WAL) each. Rows wait here at most `flushIntervalMs`
// (or until `flushRows` are queued) and go out in statements of up to
// `maxRowsPerInsert`, `concurrency` at a time.
//
// Bounded: above `highWaterRows` `enqueue` resolves only once the queue has
// drained below it (backpressure for a caller that awaits it), and beyond
// `maxQueuedRows` the oldest rows are dropped and counted, so a slow or absent
// Postgres costs memory up to a known limit, never more.
//
// Rows may weigh more than one (`weight`: an entry holding a frame's samples
// counts as that many); every limit and count is then in weight, and entries
// are never split: a statement takes whole entries up to `maxRowsPerInsert`
// (at least one), and an overflow drops whole entries.
//
// A failed batch is retried before anything newer, up to `maxAttempts` times;
// while `keepRetrying` says the failure is worth waiting out (the database is
// unreachable, for a bounded time) it is retried past that, at a slowing
// pace, so an outage loses nothing the queue can hold.

export interface WriteQueueOptions<Row> {
  /** Writes one batch; resolves to the rows newly stored (duplicates skipped do not count). */
  write(rows: Row[]): Promise<number>;
  /** How many rows an entry counts as (default 1). */
  weight?(row: Row): number;
  flushIntervalMs: number;
  flushRows: number;
  maxRowsPerInsert: number;
  concurrency: number;
  highWaterRows: number;
  maxQueuedRows: number;
  /** A batch failing this many times is dropped (and counted) rather than retried forever. */
  maxAttempts?: number;
  /**
   * Whether a batch failing with `error`, first failed `failingForMs` ago,
   * is retried past `maxAttempts` (e.g. while the database is unreachable,
   * up to a limit). Such retries wait 250 ms, doubling to 2 s.
   */
  keepRetrying?(error: unknown, failingForMs: number): boolean;
  onError?(error: unknown, context: { rows: number; attempt: number; dropped: boolean }): void;
}

export interface WriteQueueStats {
  queuedRows: number;
  inFlightRows: number;
  /** Rows whose INSERT succeeded (including duplicates it skipped). */
  writtenRows: number;
  /** Rows newly stored. */
  insertedRows: number;
  /** Rows dropped because the queue was full. */
  droppedRows: number;
  /** Rows dropped after `maxAttempts` failed writes. */
  failedRows: number;
  failedWrites: number;
  batchesWritten: number;
}

interface RetryBatch<Row> {
  rows: Row[];
  /** The rows' total weight. */
  weight: number;
  attempts: number;
  /** performance.now() of its first failure. */
  firstFailedAt?: number;
  /** Not retried before this (performance.now()), unless flushed. */
  notBefore?: number;
}

const HOLD_RETRY_FIRST_MS = 250;
const HOLD_RETRY_MAX_MS = 2000;

export class WriteQueue<Row> {
  private readonly options: Required<Omit<WriteQueueOptions<Row>, "onError" | "keepRetrying" | "weight">> &
    Pick<WriteQueueOptions<Row>, "onError" | "keepRetrying">;
  private readonly weight: ((row: Row) => number) | undefined;
  // A queue of chunks (one per enqueue call) with an offset into the first:
  // taking from the head never copies what stays behind.
  private chunks: Row[][] = [];
  private headOffset = 0;
  private queued = 0;
  private inFlight = 0;
  private inFlightRows = 0;
  private retries: RetryBatch<Row>[] = [];
  private timer: NodeJS.Timeout | undefined;
  // Rows enqueued before this count are due now, whatever their number.
  private dueUntil = 0;
  private enqueuedTotal = 0;
  private takenTotal = 0;
  private settledTotal = 0;
  private retriesDue = true;
  /** flush() asked: this many retries go now, whatever their pace. */
  private forcedRetries = 0;
  private spaceWaiters: (() => void)[] = [];
  private settleWaiters: { target: number; resolve: () => void }[] = [];
  private readonly counters = {
    writtenRows: 0,
    insertedRows: 0,
    droppedRows: 0,
    failedRows: 0,
    failedWrites: 0,
    batchesWritten: 0,
  };

  constructor(options: WriteQueueOptions<Row>) {
    this.options = { maxAttempts: 3, ...options };
    this.weight = options.weight;
  }

  private weightOf(rows: readonly Row[]): number {
    const weight = this.weight;
    if (!weight) return rows.length;
    let total = 0;
    for (const row of rows) total += weight(row);
    return total;
  }

  /** Starts the periodic flush. Without it rows go out only at `flushRows` or on `flush()`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.dueUntil = this.enqueuedTotal;
      this.retriesDue = true;
      this.pump();
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  enqueue(rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const weight = this.weightOf(rows);
    this.chunks.push([...rows]);
    this.queued += weight;
    this.enqueuedTotal += weight;
    this.dropOverflow();
    this.pump();
    if (this.queued <= this.options.highWaterRows) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /** Writes everything queued so far (and retries pending failures now); resolves when those rows are settled. */
  flush(): Promise<void> {
    this.dueUntil = this.enqueuedTotal;
    this.retriesDue = true;
    this.forcedRetries = this.retries.length;
    const target = this.enqueuedTotal;
    this.pump();
    if (this.settledTotal >= target) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push({ target, resolve }));
  }

  stats(): WriteQueueStats {
    return { queuedRows: this.queued + this.retryRows(), inFlightRows: this.inFlightRows, ...this.counters };
  }

  private retryRows(): number {
    return this.retries.reduce((sum, batch) => sum + batch.weight, 0);
  }

  private dropOverflow(): void {
    const excess = this.queued - this.options.maxQueuedRows;
    if (excess <= 0) return;
    const dropped = this.take(excess).weight;
    this.counters.droppedRows += dropped;
    this.settle(dropped);
  }

  /** Whole rows from the head until their weight reaches `count` (at least one row). */
  private take(count: number): { rows: Row[]; weight: number } {
    const taken: Row[] = [];
    let weight = 0;
    const weigh = this.weight;
    while (weight < count && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Row[];
      while (weight < count && this.headOffset < chunk.length) {
        const row = chunk[this.headOffset] as Row;
        taken.push(row);
        weight += weigh ? weigh(row) : 1;
        this.headOffset++;
      }
      if (this.headOffset === chunk.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.queued -= weight;
    this.takenTotal += weight;
    if (this.queued <= this.options.highWaterRows && this.spaceWaiters.length > 0) {
      const waiters = this.spaceWaiters;
      this.spaceWaiters = [];
      for (const resolve of waiters) resolve();
    }
    return { rows: taken, weight };
  }

  private settle(rows: number): void {
    this.settledTotal += rows;
    if (this.settleWaiters.length === 0) return;
    const still: typeof this.settleWaiters = [];
    for (const waiter of this.settleWaiters) {
      if (this.settledTotal >= waiter.target) waiter.resolve();
      else still.push(waiter);
    }
    this.settleWaiters = still;
  }

  private pump(): void {
    while (this.inFlight < this.options.concurrency) {
      // While failed batches wait, new rows stay in the (bounded) queue: retries never pile up.
      if (this.retries.length > 0) {
        if (!this.retriesDue) return;
        const next = this.retries[0] as RetryBatch<Row>;
        if (this.forcedRetries > 0) this.forcedRetries--;
        else if (next.notBefore !== undefined && next.notBefore > performance.now()) return;
        const batch = this.retries.shift() as RetryBatch<Row>;
        if (this.retries.length === 0) this.retriesDue = false;
        this.launch(batch);
        continue;
      }
      const due = this.takenTotal < this.dueUntil || this.queued >= this.options.flushRows;
      if (!due || this.queued === 0) return;
      this.launch({ ...this.take(this.options.maxRowsPerInsert), attempts: 0 });
    }
  }

  private launch(batch: RetryBatch<Row>): void {
    this.inFlight++;
    this.inFlightRows += batch.weight;
    const done = () => {
      this.inFlight--;
      this.inFlightRows -= batch.weight;
      this.pump();
    };
    this.options.write(batch.rows).then(
      (inserted) => {
        this.counters.writtenRows += batch.weight;
        this.counters.insertedRows += inserted;
        this.counters.batchesWritten++;
        this.settle(batch.weight);
        done();
      },
      (error: unknown) => {
        const attempt = batch.attempts + 1;
        const now = performance.now();
        const firstFailedAt = batch.firstFailedAt ?? now;
        const holding = this.options.keepRetrying?.(error, now - firstFailedAt) ?? false;
        const dropped = !holding && attempt >= this.options.maxAttempts;
        this.counters.failedWrites++;
        this.options.onError?.(error, { rows: batch.weight, attempt, dropped });
        if (dropped) {
          this.counters.failedRows += batch.weight;
          this.settle(batch.weight);
        } else {
          // Retried at the next tick (or flush), not at once: a failing database deserves a pause.
          const pause = holding
            ? Math.min(
                HOLD_RETRY_FIRST_MS * 2 ** Math.max(0, attempt - this.options.maxAttempts),
                HOLD_RETRY_MAX_MS,
              )
            : 0;
          this.retries.push({
            rows: batch.rows,
            weight: batch.weight,
            attempts: attempt,
            firstFailedAt,
            ...(pause > 0 ? { notBefore: now + pause } : {}),
          });
        }
        done();
      },
    );
  }
}
