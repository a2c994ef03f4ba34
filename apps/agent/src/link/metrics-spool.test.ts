import { describe, expect, it } from "vitest";
import { defaultSpoolLimits, MetricsSpool } from "./metrics-spool";

interface Batch {
  seq: number;
  samples: number;
}

const batch = (seq: number, samples = 3): Batch => ({ seq, samples });

function drain(spool: MetricsSpool<Batch>): number[] {
  const out: number[] = [];
  for (let b = spool.shift(); b; b = spool.shift()) out.push(b.seq);
  return out;
}

describe("MetricsSpool", () => {
  it("keeps batches in order and drains them oldest first", () => {
    const spool = new MetricsSpool<Batch>({ maxBatches: 10, maxSamples: 100 }, (b) => b.samples);
    for (let seq = 1; seq <= 4; seq++) spool.push(batch(seq));
    expect(spool.size).toBe(4);
    expect(spool.sampleCount).toBe(12);
    expect(drain(spool)).toEqual([1, 2, 3, 4]);
    expect(spool.isEmpty).toBe(true);
    expect(spool.sampleCount).toBe(0);
    expect(spool.takeDroppedSamples()).toBe(0);
  });

  it("drops the oldest batches past the batch bound and counts their samples", () => {
    const spool = new MetricsSpool<Batch>({ maxBatches: 3, maxSamples: 1000 }, (b) => b.samples);
    for (let seq = 1; seq <= 7; seq++) spool.push(batch(seq, seq));
    expect(spool.size).toBe(3);
    // batches 1..4 went, holding 1+2+3+4 samples
    expect(spool.droppedSamples).toBe(10);
    expect(spool.takeDroppedSamples()).toBe(10);
    expect(spool.takeDroppedSamples()).toBe(0);
    expect(drain(spool)).toEqual([5, 6, 7]);
  });

  it("drops the oldest batches past the sample bound", () => {
    const spool = new MetricsSpool<Batch>({ maxBatches: 100, maxSamples: 10 }, (b) => b.samples);
    spool.push(batch(1, 4));
    spool.push(batch(2, 4));
    spool.push(batch(3, 4));
    expect(spool.sampleCount).toBe(8);
    expect(spool.takeDroppedSamples()).toBe(4);
    expect(drain(spool)).toEqual([2, 3]);
  });

  it("drops even a single batch larger than the whole sample bound", () => {
    const spool = new MetricsSpool<Batch>({ maxBatches: 5, maxSamples: 10 }, (b) => b.samples);
    spool.push(batch(1, 11));
    expect(spool.isEmpty).toBe(true);
    expect(spool.takeDroppedSamples()).toBe(11);
  });

  it("adds samples lost elsewhere to the next report", () => {
    const spool = new MetricsSpool<Batch>({ maxBatches: 5, maxSamples: 10 }, (b) => b.samples);
    spool.addDropped(7);
    expect(spool.takeDroppedSamples()).toBe(7);
  });

  it("defaults to ten minutes of batches at the metrics interval", () => {
    expect(defaultSpoolLimits(5000).maxBatches).toBe(120);
    expect(defaultSpoolLimits(1000).maxBatches).toBe(600);
    expect(defaultSpoolLimits(5000).maxSamples).toBeGreaterThanOrEqual(120);
  });

  it("refuses empty limits", () => {
    expect(() => new MetricsSpool<Batch>({ maxBatches: 0, maxSamples: 1 }, (b) => b.samples)).toThrow(
      RangeError,
    );
  });
});
