/**
 * Bounded FIFO of metric batches that could not be sent (link down, or the
 * socket's send buffer past its bound). When full, the oldest batches go first
 * — recent figures matter more to a live view — and the samples they held are
 * counted so the central learns of the gap through the next batch's
 * `droppedSamples`.
 *
 * Generic over the batch type; the link stores protocol metric frames here.
 */

export interface SpoolLimits {
  /** At most this many batches are held. */
  maxBatches: number;
  /** At most this many samples (container + host) across all held batches. */
  maxSamples: number;
}

/** How long a disconnection the default spool covers without losing samples. */
export const DEFAULT_SPOOL_WINDOW_MS = 10 * 60_000;
/** Samples one batch is assumed to hold at most when sizing the default spool (containers + host). */
export const DEFAULT_SPOOL_SAMPLES_PER_BATCH = 256;

/** Ten minutes of batches at the given metrics interval. */
export function defaultSpoolLimits(metricsIntervalMs: number): SpoolLimits {
  const maxBatches = Math.max(1, Math.ceil(DEFAULT_SPOOL_WINDOW_MS / Math.max(1, metricsIntervalMs)));
  return { maxBatches, maxSamples: maxBatches * DEFAULT_SPOOL_SAMPLES_PER_BATCH };
}

export class MetricsSpool<TBatch> {
  private readonly batches: { batch: TBatch; samples: number }[] = [];
  private held = 0;
  private dropped = 0;

  constructor(
    private readonly limits: SpoolLimits,
    private readonly countSamples: (batch: TBatch) => number,
  ) {
    if (limits.maxBatches < 1 || limits.maxSamples < 1)
      throw new RangeError("spool limits must be at least 1");
  }

  get size(): number {
    return this.batches.length;
  }

  get sampleCount(): number {
    return this.held;
  }

  get isEmpty(): boolean {
    return this.batches.length === 0;
  }

  /** Samples dropped since the count was last taken. */
  get droppedSamples(): number {
    return this.dropped;
  }

  /** Appends a batch, dropping the oldest ones while over either limit. */
  push(batch: TBatch): void {
    const samples = this.countSamples(batch);
    this.batches.push({ batch, samples });
    this.held += samples;
    this.dropOldestOverLimits();
  }

  /**
   * Puts a batch back in front (it left the spool but could not be sent: the
   * socket was closing). Over a limit, the oldest batches go, as on push.
   */
  unshift(batch: TBatch): void {
    const samples = this.countSamples(batch);
    this.batches.unshift({ batch, samples });
    this.held += samples;
    this.dropOldestOverLimits();
  }

  private dropOldestOverLimits(): void {
    while (
      this.batches.length > this.limits.maxBatches ||
      (this.held > this.limits.maxSamples && this.batches.length > 0)
    ) {
      const oldest = this.batches.shift()!;
      this.held -= oldest.samples;
      this.dropped += oldest.samples;
    }
  }

  /** Removes and returns the oldest batch. */
  shift(): TBatch | undefined {
    const first = this.batches.shift();
    if (!first) return undefined;
    this.held -= first.samples;
    return first.batch;
  }

  /** Returns the dropped-sample count and starts counting from zero. */
  takeDroppedSamples(): number {
    const n = this.dropped;
    this.dropped = 0;
    return n;
  }

  /** Adds samples lost elsewhere (e.g. a send that failed after leaving the spool) to the next report. */
  addDropped(samples: number): void {
    this.dropped += samples;
  }
}
