/**
 * Hosts that can take containers (online, not draining), grouped so that a
 * request visits only the groups that can hold its best host. A group (a
 * cell) is one host shape (allocatable cpu and memory) and one step of free
 * cpu and one of free memory, each a sixteenth of the shape; a cell knows the
 * range of everything the scheduler's scores read, so `schedule` bounds the
 * best score inside it without looking at its hosts, visits the most
 * promising cells first and stops when no cell left can beat the host it has.
 *
 * Hosts are kept by position in the view's name-then-id order; each cell
 * lists its hosts by how much they have free (the sum of the free fractions
 * of cpu and memory, the key), then by position, so binpack takes the first
 * host of a cell that passes the filters and spread walks a cell from the
 * other end and stops early. `ClusterView` keeps it in step with every change.
 */
import { tenTo } from "./fit-score";
import { freeFraction, freeLevel, LEVELS } from "./free-steps";

// Imported functions and constants bound once: the hot loops below call
// them per host, and modules compiled to CommonJS (tsx, vitest) reach
// imports through a getter on every use.
const freeFraction_ = freeFraction;
const freeLevel_ = freeLevel;
const LEVELS_ = LEVELS;
const tenTo_ = tenTo;

const SIDE = LEVELS_ + 1;
const CELLS_PER_SHAPE = SIDE * SIDE;

export class FreeCapacityIndex {
  readonly #shapeByKey = new Map<string, number>();
  /** Host shapes by number: allocatable cpu and memory. */
  readonly #shapes: { cpu: number; memory: number }[] = [];
  /** Cell → positions of its hosts, by key, then position. */
  readonly #cells: number[][] = [];
  /** Position → its key: the free fractions of cpu and memory summed. */
  #keyOf: Float64Array = new Float64Array(0);
  /** Position → 10^(free fraction) of cpu and of memory, spread's terms (see `spreadCost`). */
  #tenCpu: Float64Array = new Float64Array(0);
  #tenMemory: Float64Array = new Float64Array(0);
  /** Cells with at least one host, in no order, and each one's slot in that list. */
  readonly #live: number[] = [];
  readonly #liveSlot: number[] = [];
  /** Position → its cell, or -1 for a host that cannot take containers. */
  #cellOf: Int32Array = new Int32Array(0);
  /** The free steps of cpu and memory summed over the used hosts (an integer, so it never drifts). */
  #usedFreeSteps = 0;
  /** Position → what it adds to the totals below (0 when it cannot take containers). */
  #allocatedCpuOf: Float64Array = new Float64Array(0);
  #allocatedMemoryOf: Float64Array = new Float64Array(0);
  #allocatableCpuOf: Float64Array = new Float64Array(0);
  #allocatableMemoryOf: Float64Array = new Float64Array(0);
  /** Allocated and allocatable cpu and memory over the hosts that can take containers: sums of integers, exact. */
  readonly #totals = { allocatedCpu: 0, allocatedMemory: 0, allocatableCpu: 0, allocatableMemory: 0 };

  /** Forgets every host and shape; positions up to `size` may be set afterwards. */
  reset(size: number): void {
    this.#shapeByKey.clear();
    this.#shapes.length = 0;
    this.#cells.length = 0;
    this.#live.length = 0;
    this.#liveSlot.length = 0;
    this.#usedFreeSteps = 0;
    this.#totals.allocatedCpu = 0;
    this.#totals.allocatedMemory = 0;
    this.#totals.allocatableCpu = 0;
    this.#totals.allocatableMemory = 0;
    this.#cellOf = new Int32Array(Math.max(size, 16)).fill(-1);
    this.#keyOf = new Float64Array(this.#cellOf.length);
    this.#allocatedCpuOf = new Float64Array(this.#cellOf.length);
    this.#allocatedMemoryOf = new Float64Array(this.#cellOf.length);
    this.#allocatableCpuOf = new Float64Array(this.#cellOf.length);
    this.#allocatableMemoryOf = new Float64Array(this.#cellOf.length);
    this.#tenCpu = new Float64Array(this.#cellOf.length);
    this.#tenMemory = new Float64Array(this.#cellOf.length);
  }

  /** Files every host at once (positions 0 to count - 1): cheaper than one by one. */
  rebuild(
    count: number,
    eligible: (position: number) => boolean,
    allocatableCpu: Float64Array,
    allocatableMemory: Float64Array,
    freeCpu: Float64Array,
    freeMemory: Float64Array,
  ): void {
    this.reset(count);
    for (let i = 0; i < count; i++) {
      if (!eligible(i)) continue;
      this.#count(i, allocatableCpu[i]!, allocatableMemory[i]!, freeCpu[i]!, freeMemory[i]!);
      const cell = this.#cellFor(allocatableCpu[i]!, allocatableMemory[i]!, freeCpu[i]!, freeMemory[i]!);
      this.#cellOf[i] = cell;
      this.#keyOf[i] = keyOf(allocatableCpu[i]!, allocatableMemory[i]!, freeCpu[i]!, freeMemory[i]!);
      this.#tenCpu[i] = tenTo_(freeFraction_(freeCpu[i]!, allocatableCpu[i]!));
      this.#tenMemory[i] = tenTo_(freeFraction_(freeMemory[i]!, allocatableMemory[i]!));
      let hosts = this.#cells[cell];
      if (hosts === undefined) {
        hosts = [];
        this.#cells[cell] = hosts;
      }
      if (hosts.length === 0) {
        this.#liveSlot[cell] = this.#live.length;
        this.#live.push(cell);
      }
      hosts.push(i);
      this.#usedFreeSteps += this.#usedStepsOf(cell);
    }
    const keys = this.#keyOf;
    // Filed in position order, and the sort is stable: equal keys stay in position order.
    for (const cell of this.#live) this.#cells[cell]!.sort((a, b) => keys[a]! - keys[b]!);
  }

  /** Files the host at `position` by its numbers, or takes it out when it cannot take containers. */
  set(
    position: number,
    eligible: boolean,
    allocatableCpu: number,
    allocatableMemory: number,
    freeCpu: number,
    freeMemory: number,
  ): void {
    const cell = eligible ? this.#cellFor(allocatableCpu, allocatableMemory, freeCpu, freeMemory) : -1;
    const key = keyOf(allocatableCpu, allocatableMemory, freeCpu, freeMemory);
    if (position >= this.#cellOf.length) {
      const capacity = Math.max(position + 1, this.#cellOf.length * 2);
      const cells = new Int32Array(capacity).fill(-1);
      cells.set(this.#cellOf);
      this.#cellOf = cells;
      this.#keyOf = grown(this.#keyOf, capacity);
      this.#allocatedCpuOf = grown(this.#allocatedCpuOf, capacity);
      this.#allocatedMemoryOf = grown(this.#allocatedMemoryOf, capacity);
      this.#allocatableCpuOf = grown(this.#allocatableCpuOf, capacity);
      this.#allocatableMemoryOf = grown(this.#allocatableMemoryOf, capacity);
      this.#tenCpu = grown(this.#tenCpu, capacity);
      this.#tenMemory = grown(this.#tenMemory, capacity);
    }
    this.#tenCpu[position] = tenTo_(freeFraction_(freeCpu, allocatableCpu));
    this.#tenMemory[position] = tenTo_(freeFraction_(freeMemory, allocatableMemory));
    this.#uncount(position);
    if (eligible) this.#count(position, allocatableCpu, allocatableMemory, freeCpu, freeMemory);
    const old = this.#cellOf[position]!;
    if (old === cell && this.#keyOf[position] === key) return;
    if (old >= 0) this.#take(old, position);
    this.#keyOf[position] = key;
    if (cell >= 0) this.#put(cell, position);
    this.#cellOf[position] = cell;
  }

  /** How much the used hosts (anything allocated) have free, in hosts' worth: cpu and memory averaged, by steps. */
  freeInUsedHosts(): number {
    return this.#usedFreeSteps / (2 * LEVELS_);
  }

  /** Allocated and allocatable cpu and memory summed over the hosts that can take containers. */
  totals(): {
    readonly allocatedCpu: number;
    readonly allocatedMemory: number;
    readonly allocatableCpu: number;
    readonly allocatableMemory: number;
  } {
    return this.#totals;
  }

  /** A host's key: its free fractions of cpu and memory summed. */
  keyAt(position: number): number {
    return this.#keyOf[position]!;
  }

  /** 10^(free fraction of cpu) by position. */
  tenToFreeCpu(): Float64Array {
    return this.#tenCpu;
  }

  /** 10^(free fraction of memory) by position. */
  tenToFreeMemory(): Float64Array {
    return this.#tenMemory;
  }

  /** Cells holding at least one host. */
  liveCells(): readonly number[] {
    return this.#live;
  }

  /** The positions of a cell's hosts, by key, then position. */
  hostsIn(cell: number): readonly number[] {
    return this.#cells[cell]!;
  }

  shapeOf(cell: number): number {
    return Math.floor(cell / CELLS_PER_SHAPE);
  }

  cpuLevelOf(cell: number): number {
    return Math.floor((cell % CELLS_PER_SHAPE) / SIDE);
  }

  memoryLevelOf(cell: number): number {
    return cell % SIDE;
  }

  /** Host shapes by number (`shapeOf`). */
  shapes(): readonly { readonly cpu: number; readonly memory: number }[] {
    return this.#shapes;
  }

  #cellFor(allocatableCpu: number, allocatableMemory: number, freeCpu: number, freeMemory: number): number {
    return (
      this.#shape(allocatableCpu, allocatableMemory) * CELLS_PER_SHAPE +
      freeLevel_(freeCpu, allocatableCpu) * SIDE +
      freeLevel_(freeMemory, allocatableMemory)
    );
  }

  #shape(cpu: number, memory: number): number {
    const key = `${cpu}/${memory}`;
    let shape = this.#shapeByKey.get(key);
    if (shape === undefined) {
      shape = this.#shapes.length;
      this.#shapeByKey.set(key, shape);
      this.#shapes.push({ cpu, memory });
    }
    return shape;
  }

  #count(
    position: number,
    allocatableCpu: number,
    allocatableMemory: number,
    freeCpu: number,
    freeMemory: number,
  ): void {
    const totals = this.#totals;
    this.#allocatedCpuOf[position] = allocatableCpu - freeCpu;
    this.#allocatedMemoryOf[position] = allocatableMemory - freeMemory;
    this.#allocatableCpuOf[position] = allocatableCpu;
    this.#allocatableMemoryOf[position] = allocatableMemory;
    totals.allocatedCpu += allocatableCpu - freeCpu;
    totals.allocatedMemory += allocatableMemory - freeMemory;
    totals.allocatableCpu += allocatableCpu;
    totals.allocatableMemory += allocatableMemory;
  }

  #uncount(position: number): void {
    const totals = this.#totals;
    totals.allocatedCpu -= this.#allocatedCpuOf[position]!;
    totals.allocatedMemory -= this.#allocatedMemoryOf[position]!;
    totals.allocatableCpu -= this.#allocatableCpuOf[position]!;
    totals.allocatableMemory -= this.#allocatableMemoryOf[position]!;
    this.#allocatedCpuOf[position] = 0;
    this.#allocatedMemoryOf[position] = 0;
    this.#allocatableCpuOf[position] = 0;
    this.#allocatableMemoryOf[position] = 0;
  }

  /** A cell's free steps of cpu and memory summed, or 0 for the cell of empty hosts. */
  #usedStepsOf(cell: number): number {
    const cpuLevel = this.cpuLevelOf(cell);
    const memoryLevel = this.memoryLevelOf(cell);
    return cpuLevel >= LEVELS_ && memoryLevel >= LEVELS_ ? 0 : cpuLevel + memoryLevel;
  }

  #put(cell: number, position: number): void {
    this.#usedFreeSteps += this.#usedStepsOf(cell);
    let hosts = this.#cells[cell];
    if (hosts === undefined) {
      hosts = [];
      this.#cells[cell] = hosts;
    }
    if (hosts.length === 0) {
      this.#liveSlot[cell] = this.#live.length;
      this.#live.push(cell);
    }
    hosts.splice(this.#lowerBound(hosts, position), 0, position);
  }

  #take(cell: number, position: number): void {
    this.#usedFreeSteps -= this.#usedStepsOf(cell);
    const hosts = this.#cells[cell]!;
    hosts.splice(this.#lowerBound(hosts, position), 1);
    if (hosts.length > 0) return;
    const slot = this.#liveSlot[cell]!;
    const last = this.#live.pop()!;
    if (last !== cell) {
      this.#live[slot] = last;
      this.#liveSlot[last] = slot;
    }
  }

  /** Where `position` is or belongs in a cell's list, by its current key. */
  #lowerBound(hosts: readonly number[], position: number): number {
    const keys = this.#keyOf;
    const key = keys[position]!;
    let low = 0;
    let high = hosts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const other = hosts[middle]!;
      const otherKey = keys[other]!;
      if (otherKey < key || (otherKey === key && other < position)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function grown(old: Float64Array, capacity: number): Float64Array {
  const bigger = new Float64Array(capacity);
  bigger.set(old);
  return bigger;
}

function keyOf(
  allocatableCpu: number,
  allocatableMemory: number,
  freeCpu: number,
  freeMemory: number,
): number {
  return freeFraction_(freeCpu, allocatableCpu) + freeFraction_(freeMemory, allocatableMemory);
}
