import { effectiveRequests } from "./effective-requests";
import { FreeCapacityIndex } from "./free-capacity-index";
import { compareHosts } from "./host-order";
import { usedHostPortsOf } from "./host-ports";
import { type RecordSnapshot, RecordTable } from "./record-table";
import type { PlacementRequest, SchedulerHost } from "./types";

const HOST_OFFLINE = 1;
const HOST_DRAINING = 2;

/**
 * The numbers the scheduler's loop reads, one typed-array slot per host, so
 * the hosts it visits are read from a few flat arrays instead of three
 * objects each. Hosts with equal labels share one frozen label object, so a
 * constraint is checked once per distinct set rather than once per host.
 * For `schedule` only; everything else reads hosts through the view's methods.
 */
export type HostColumns = {
  readonly count: number;
  /** The records as they are now, kept as they are by later changes. */
  readonly records: RecordSnapshot;
  readonly allocatableCpu: Float64Array;
  readonly allocatableMemory: Float64Array;
  readonly freeCpu: Float64Array;
  readonly freeMemory: Float64Array;
  readonly freePids: Float64Array;
};

/**
 * The central's in-memory picture of the cluster: every host with what is
 * allocated on it. `schedule` reads it; `place` and `release` keep it in step
 * with the placements the central commits, so the next decision sees them
 * without a database round trip. The view owns copies of the hosts it is
 * given: callers' objects are never changed, and changing them later does not
 * change the view. Host records it hands out are snapshots: every change
 * replaces a record, so call `get` again to see the latest.
 */
export class ClusterView {
  readonly #records = new RecordTable();
  readonly #indexById = new Map<string, number>();
  #flags = new Uint8Array(0);
  #allocatableCpu = new Float64Array(0);
  #allocatableMemory = new Float64Array(0);
  #freeCpu = new Float64Array(0);
  #freeMemory = new Float64Array(0);
  #freePids = new Float64Array(0);
  /** Label sets by their canonical key: one frozen object shared by the hosts that have it, and how many do. */
  readonly #labelSets = new Map<string, { labels: Readonly<Record<string, string>>; users: number }>();
  /** Volume name → ids of the hosts holding it. */
  readonly #hostsByVolume = new Map<string, Set<string>>();
  /** Host id → volumes `place` created there → how many placements (so `release` can undo them). */
  readonly #placedVolumes = new Map<string, Map<string, number>>();
  readonly #capacity = new FreeCapacityIndex();

  constructor(hosts: Iterable<SchedulerHost> = []) {
    // Sort once and append, rather than inserting one by one into the middle.
    const latest = new Map<string, SchedulerHost>();
    for (const host of hosts) latest.set(host.id, host);
    const sorted = [...latest.values()].sort(compareHosts);
    this.#ensureCapacity(sorted.length);
    for (const host of sorted) this.#insertAt(this.#records.length, host);
  }

  get size(): number {
    return this.#records.length;
  }

  /** The hosts sorted by name, then id: a snapshot that later changes to the view leave alone. */
  hosts(): readonly Readonly<SchedulerHost>[] {
    return this.#records.flat();
  }

  /** Where a host is in `hosts()` and the columns, or undefined. */
  positionOf(hostId: string): number | undefined {
    return this.#indexById.get(hostId);
  }

  /**
   * The hosts that can take containers, grouped by shape and free capacity,
   * by position in the columns; valid until the view next changes.
   */
  capacityIndex(): FreeCapacityIndex {
    return this.#capacity;
  }

  // Positions shifted (a host added in the middle or removed): file every host again.
  #rebuildCapacity(): void {
    this.#capacity.rebuild(
      this.#records.length,
      (i) => this.#flags[i] === 0,
      this.#allocatableCpu,
      this.#allocatableMemory,
      this.#freeCpu,
      this.#freeMemory,
    );
  }

  get(hostId: string): Readonly<SchedulerHost> | undefined {
    const index = this.#indexById.get(hostId);
    return index === undefined ? undefined : this.#records.get(index);
  }

  /**
   * Adds a host or replaces everything known about it (allocated and ports
   * included). Adding or renaming a host is O(hosts), to keep them in order;
   * updating one in place is O(1).
   */
  upsertHost(host: SchedulerHost): void {
    const index = this.#indexById.get(host.id);
    if (index !== undefined && this.#records.get(index).name === host.name) {
      const labels = this.#internLabels(host.labels);
      this.#releaseLabels(this.#records.get(index).labels);
      this.#replaceRecord(index, copyHost(host, labels));
      return;
    }
    this.removeHost(host.id);
    this.#insertAt(this.#insertionPoint(host), host);
  }

  /** Returns whether the host was there. */
  removeHost(hostId: string): boolean {
    const index = this.#indexById.get(hostId);
    if (index === undefined) return false;
    this.#releaseLabels(this.#records.get(index).labels);
    this.#indexVolumes(this.#records.get(index), false);
    this.#placedVolumes.delete(hostId);
    this.#records.splice(index, undefined);
    this.#shiftColumns(index + 1, index);
    this.#indexById.delete(hostId);
    this.#reindexFrom(index);
    this.#rebuildCapacity();
    return true;
  }

  /**
   * Books a placement on a host: adds its effective requests to `allocated`
   * and its host ports to `usedHostPorts`. It does not check that it fits:
   * the view records decisions, `schedule` makes them.
   */
  place(hostId: string, request: Pick<PlacementRequest, "resources" | "ports" | "volumes">): void {
    const index = this.#mustFind(hostId);
    const host = this.#records.get(index);
    const take = effectiveRequests(request.resources);
    this.#replaceRecord(index, {
      ...host,
      ...this.#withPlacedVolumes(host, request.volumes),
      allocated: {
        cpuMillis: host.allocated.cpuMillis + take.cpuMillis,
        memoryBytes: host.allocated.memoryBytes + take.memoryBytes,
        pids: host.allocated.pids + take.pids,
      },
      usedHostPorts: [...host.usedHostPorts, ...usedHostPortsOf(request.ports)],
    });
  }

  /**
   * Undoes `place` for the same request. Amounts stop at zero so that a
   * release after the host was re-read from the database (its `allocated`
   * already without this container) cannot push it negative.
   */
  release(hostId: string, request: Pick<PlacementRequest, "resources" | "ports" | "volumes">): void {
    const index = this.#mustFind(hostId);
    const host = this.#records.get(index);
    const take = effectiveRequests(request.resources);
    const usedHostPorts = [...host.usedHostPorts];
    for (const binding of usedHostPortsOf(request.ports)) {
      const i = usedHostPorts.findIndex(
        (u) => u.port === binding.port && u.protocol === binding.protocol && u.hostIp === binding.hostIp,
      );
      if (i >= 0) usedHostPorts.splice(i, 1);
    }
    this.#replaceRecord(index, {
      ...this.#withoutPlacedVolumes(host, request.volumes),
      allocated: {
        cpuMillis: Math.max(0, host.allocated.cpuMillis - take.cpuMillis),
        memoryBytes: Math.max(0, host.allocated.memoryBytes - take.memoryBytes),
        pids: Math.max(0, host.allocated.pids - take.pids),
      },
      usedHostPorts,
    });
  }

  /**
   * Volumes `place` created on hosts that did not hold them before (and
   * `release` did not undo): the rows a placement transaction must write.
   */
  placedVolumes(): { hostId: string; name: string }[] {
    const placed: { hostId: string; name: string }[] = [];
    for (const [hostId, names] of this.#placedVolumes) {
      for (const name of names.keys()) placed.push({ hostId, name });
    }
    return placed;
  }

  /**
   * For the volumes among `names` that exist on some host: how many of them
   * each host holds, by host position. `existing` is empty (and `counts`
   * undefined) when none of them exists anywhere.
   */
  volumeHolders(names: readonly string[]): { existing: string[]; counts: Uint16Array | undefined } {
    const existing: string[] = [];
    let counts: Uint16Array | undefined;
    for (const name of new Set(names)) {
      const holders = this.#hostsByVolume.get(name);
      if (holders === undefined) continue;
      existing.push(name);
      counts ??= new Uint16Array(this.#records.length);
      for (const hostId of holders) counts[this.#indexById.get(hostId)!]!++;
    }
    return { existing, counts };
  }

  /** The ids of the hosts holding a volume, in no particular order. */
  hostsWithVolume(name: string): readonly string[] {
    return [...(this.#hostsByVolume.get(name) ?? [])];
  }

  #withPlacedVolumes(host: SchedulerHost, volumes: readonly string[] | undefined): Partial<SchedulerHost> {
    if (volumes === undefined || volumes.length === 0) return {};
    const has = new Set(host.volumes ?? []);
    let placed = this.#placedVolumes.get(host.id);
    const added: string[] = [];
    for (const name of new Set(volumes)) {
      const count = placed?.get(name);
      if (count !== undefined) {
        placed!.set(name, count + 1);
        continue;
      }
      if (has.has(name)) continue;
      if (placed === undefined) {
        placed = new Map();
        this.#placedVolumes.set(host.id, placed);
      }
      placed.set(name, 1);
      added.push(name);
    }
    return added.length === 0 ? {} : { volumes: [...(host.volumes ?? []), ...added] };
  }

  #withoutPlacedVolumes(host: SchedulerHost, volumes: readonly string[] | undefined): SchedulerHost {
    const placed = this.#placedVolumes.get(host.id);
    if (volumes === undefined || placed === undefined) return host;
    const gone = new Set<string>();
    for (const name of new Set(volumes)) {
      const count = placed.get(name);
      if (count === undefined) continue;
      if (count > 1) placed.set(name, count - 1);
      else {
        placed.delete(name);
        gone.add(name);
      }
    }
    if (placed.size === 0) this.#placedVolumes.delete(host.id);
    if (gone.size === 0) return host;
    return { ...host, volumes: (host.volumes ?? []).filter((name) => !gone.has(name)) };
  }

  #indexVolumes(record: SchedulerHost, holds: boolean): void {
    for (const name of record.volumes ?? []) {
      let holders = this.#hostsByVolume.get(name);
      if (holds) {
        if (holders === undefined) {
          holders = new Set();
          this.#hostsByVolume.set(name, holders);
        }
        holders.add(record.id);
      } else if (holders !== undefined) {
        holders.delete(record.id);
        if (holders.size === 0) this.#hostsByVolume.delete(name);
      }
    }
  }

  /**
   * The scheduler's flat view of the hosts. The typed arrays are valid until
   * the view next changes; `records` stays as it is for good.
   */
  columns(): HostColumns {
    return {
      count: this.#records.length,
      records: this.#records.snapshot(),
      allocatableCpu: this.#allocatableCpu,
      allocatableMemory: this.#allocatableMemory,
      freeCpu: this.#freeCpu,
      freeMemory: this.#freeMemory,
      freePids: this.#freePids,
    };
  }

  // Records are never changed in place: results of earlier `schedule` calls
  // keep the records they saw and describe hosts as they were then.
  #replaceRecord(index: number, record: SchedulerHost): void {
    this.#indexVolumes(this.#records.get(index), false);
    this.#indexVolumes(record, true);
    this.#records.set(index, record);
    this.#writeColumns(index);
  }

  #mustFind(hostId: string): number {
    const index = this.#indexById.get(hostId);
    if (index === undefined) throw new Error(`unknown host ${hostId} in the cluster view`);
    return index;
  }

  #writeColumns(index: number): void {
    const host = this.#records.get(index);
    this.#flags[index] = (host.online ? 0 : HOST_OFFLINE) | (host.draining ? HOST_DRAINING : 0);
    this.#allocatableCpu[index] = host.allocatable.cpuMillis;
    this.#allocatableMemory[index] = host.allocatable.memoryBytes;
    this.#freeCpu[index] = host.allocatable.cpuMillis - host.allocated.cpuMillis;
    this.#freeMemory[index] = host.allocatable.memoryBytes - host.allocated.memoryBytes;
    this.#freePids[index] = host.allocatable.pids - host.allocated.pids;
    this.#fileCapacity(index);
  }

  #fileCapacity(index: number): void {
    this.#capacity.set(
      index,
      this.#flags[index] === 0,
      this.#allocatableCpu[index]!,
      this.#allocatableMemory[index]!,
      this.#freeCpu[index]!,
      this.#freeMemory[index]!,
    );
  }

  /** Where a host belongs in name-then-id order (binary search). */
  #insertionPoint(host: SchedulerHost): number {
    let low = 0;
    let high = this.#records.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareHosts(this.#records.get(middle), host) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #insertAt(index: number, host: SchedulerHost): void {
    const labels = this.#internLabels(host.labels);
    this.#ensureCapacity(this.#records.length + 1);
    const atEnd = index === this.#records.length;
    this.#shiftColumns(index, index + 1);
    const record = copyHost(host, labels);
    this.#indexVolumes(record, true);
    if (atEnd) this.#records.push(record);
    else this.#records.splice(index, record);
    this.#writeColumns(index);
    if (atEnd) this.#indexById.set(host.id, index);
    else {
      this.#reindexFrom(index);
      this.#rebuildCapacity();
    }
  }

  /** Moves the column slots from `from` to the end so they start at `to`. */
  #shiftColumns(from: number, to: number): void {
    const end = this.#records.length + (to > from ? 0 : 1);
    if (from >= end) return;
    for (const column of [
      this.#flags,
      this.#allocatableCpu,
      this.#allocatableMemory,
      this.#freeCpu,
      this.#freeMemory,
      this.#freePids,
    ]) {
      column.copyWithin(to, from, end);
    }
  }

  #reindexFrom(index: number): void {
    for (let i = index; i < this.#records.length; i++) this.#indexById.set(this.#records.get(i).id, i);
  }

  #ensureCapacity(needed: number): void {
    if (needed <= this.#flags.length) return;
    const capacity = Math.max(16, this.#flags.length * 2, needed);
    const grow = <T extends Uint8Array | Float64Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const bigger = make(capacity);
      bigger.set(old);
      return bigger;
    };
    this.#flags = grow(this.#flags, (n) => new Uint8Array(n));
    this.#allocatableCpu = grow(this.#allocatableCpu, (n) => new Float64Array(n));
    this.#allocatableMemory = grow(this.#allocatableMemory, (n) => new Float64Array(n));
    this.#freeCpu = grow(this.#freeCpu, (n) => new Float64Array(n));
    this.#freeMemory = grow(this.#freeMemory, (n) => new Float64Array(n));
    this.#freePids = grow(this.#freePids, (n) => new Float64Array(n));
  }

  /** The shared, frozen label set equal to `labels`, made if new. */
  #internLabels(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
    const key = labelSetKey(labels);
    let set = this.#labelSets.get(key);
    if (set === undefined) {
      set = { labels: Object.freeze({ ...labels }), users: 0 };
      this.#labelSets.set(key, set);
    }
    set.users++;
    return set.labels;
  }

  // Label sets no host uses any more are forgotten, so a long-running
  // central whose hosts come and go does not collect dead label sets.
  #releaseLabels(labels: Readonly<Record<string, string>>): void {
    const key = labelSetKey(labels);
    const set = this.#labelSets.get(key)!;
    set.users--;
    if (set.users === 0) this.#labelSets.delete(key);
  }
}

function labelSetKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((key) => [key, labels[key]]),
  );
}

function copyHost(host: SchedulerHost, sharedLabels: Readonly<Record<string, string>>): SchedulerHost {
  return {
    id: host.id,
    name: host.name,
    online: host.online,
    draining: host.draining,
    // Frozen and shared: the view never changes labels in place, upsertHost replaces them.
    labels: sharedLabels as Record<string, string>,
    allocatable: { ...host.allocatable },
    allocated: { ...host.allocated },
    usedHostPorts: host.usedHostPorts.map((p) => ({ ...p })),
    ...(host.volumes && host.volumes.length > 0 ? { volumes: [...new Set(host.volumes)] } : {}),
  };
}
