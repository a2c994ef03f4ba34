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
  /** Per chunk: whether a snapshot may hold it (then a change copies it first). */
  #shared: boolean[] = [];
  #length = 0;
  #snapshot: RecordSnapshot | undefined;
  #flat: readonly SchedulerHost[] | undefined;

  get length(): number {
    return this.#length;
  }

  get(index: number): SchedulerHost {
    return this.#chunks[Math.floor(index / CHUNK)]![index % CHUNK]!;
  }

  set(index: number, record: SchedulerHost): void {
    const c = Math.floor(index / CHUNK);
    if (this.#shared[c]) {
      this.#chunks[c] = this.#chunks[c]!.slice();
      this.#shared[c] = false;
    }
    this.#chunks[c]![index % CHUNK] = record;
    this.#changed();
  }

  /** Puts a record at `index` (moving later ones up) or, with `record` undefined, takes the one there out. */
  splice(index: number, record: SchedulerHost | undefined): void {
    const all = [...this.flat()];
    if (record === undefined) all.splice(index, 1);
    else all.splice(index, 0, record);
    this.#chunks = [];
    this.#shared = [];
    for (let i = 0; i < all.length; i += CHUNK) {
      this.#chunks.push(all.slice(i, i + CHUNK));
      this.#shared.push(false);
    }
    this.#length = all.length;
    this.#changed();
  }

  /** Appends a record (what building a view does, host after host). */
  push(record: SchedulerHost): void {
    const c = Math.floor(this.#length / CHUNK);
    if (c === this.#chunks.length) {
      this.#chunks.push([]);
      this.#shared.push(false);
    } else if (this.#shared[c]) {
      this.#chunks[c] = this.#chunks[c]!.slice();
      this.#shared[c] = false;
    }
    this.#chunks[c]!.push(record);
    this.#length++;
    this.#changed();
  }

  snapshot(): RecordSnapshot {
    if (this.#snapshot !== undefined) return this.#snapshot;
    this.#shared.fill(true);
    const chunks = this.#chunks.slice();
    const length = this.#length;
    this.#snapshot = {
      length,
      get: (index: number) => chunks[Math.floor(index / CHUNK)]![index % CHUNK]!,
    };
    return this.#snapshot;
  }

  /** Every record in one array, kept until the next change. */
  flat(): readonly SchedulerHost[] {
    this.#flat ??= this.#chunks.flat();
    return this.#flat;
  }

  #changed(): void {
    this.#snapshot = undefined;
    this.#flat = undefined;
  }
}
