import type { SchedulerHost } from "./types";

/** Records per chunk: a change after a snapshot copies one chunk, not every record. */
const CHUNK = 64;

/** The host records as they were when taken: later changes to the table leave it alone. */
export type RecordSnapshot = {
  readonly length: number;
  get(index: number): SchedulerHost;
};

/**
 * The view's host records in position order, copy-on-write by chunks: a
 * scheduling result keeps a snapshot (the list of chunks, a few dozen
 * pointers at 5,000 hosts), and the first change to a chunk after that
 * copies the chunk (64 pointers) instead of the whole array.
 */
export class RecordTable {
  #chunks: SchedulerHost[][] = [];
  #length = 0;
  /** The chunks of the last snapshot: a chunk still in it is copied before it changes. */
  #shared: readonly SchedulerHost[][] = [];
  #snapshot: RecordSnapshot | undefined;
  #flat: readonly SchedulerHost[] | undefined;

  get length(): number {
    return this.#length;
  }

  get(index: number): SchedulerHost {
    return this.#chunks[Math.floor(index / CHUNK)]![index % CHUNK]!;
  }

  set(index: number, record: SchedulerHost): void {
    this.#writable(Math.floor(index / CHUNK))[index % CHUNK] = record;
    this.#changed();
  }

  /** Appends a record (what building a view does, host after host). */
  push(record: SchedulerHost): void {
    const c = Math.floor(this.#length / CHUNK);
    this.#chunks[c] ??= [];
    this.#writable(c).push(record);
    this.#length++;
    this.#changed();
  }

  /** Puts a record at `index` (moving later ones up) or, with `record` undefined, takes the one there out. */
  splice(index: number, record: SchedulerHost | undefined): void {
    const all = [...this.flat()];
    if (record === undefined) all.splice(index, 1);
    else all.splice(index, 0, record);
    this.#chunks = [];
    this.#length = 0;
    for (const each of all) this.push(each);
  }

  snapshot(): RecordSnapshot {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const chunks = this.#chunks.slice();
    this.#shared = chunks;
    this.#snapshot = {
      length: this.#length,
      get: (index: number) => chunks[Math.floor(index / CHUNK)]![index % CHUNK]!,
    };
    return this.#snapshot;
  }

  /** Every record in one array, kept until the next change. */
  flat(): readonly SchedulerHost[] {
    this.#flat ??= this.#chunks.flat();
    return this.#flat;
  }

  #writable(c: number): SchedulerHost[] {
    if (this.#chunks[c] === this.#shared[c]) this.#chunks[c] = this.#chunks[c]!.slice();
    return this.#chunks[c]!;
  }

  #changed(): void {
    this.#snapshot = undefined;
    this.#flat = undefined;
  }
}
