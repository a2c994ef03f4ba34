import { matchesLabels } from "../label-selector";
import { ClusterView, type HostColumns } from "./cluster-view";
import { effectiveRequests } from "./effective-requests";
import { binpackCost, costToScore, openHostCost, sameShape, spreadCost, tenTo } from "./fit-score";
import type { FreeCapacityIndex } from "./free-capacity-index";
import { freeFraction, freeLevel, LEVELS } from "./free-steps";
import { findPortConflict, type HostPortMapping, takesHostPort } from "./host-ports";
import type { RecordSnapshot } from "./record-table";
import {
  FAILED_CONSTRAINTS,
  FAILED_CPU,
  FAILED_DRAINING,
  FAILED_MEMORY,
  FAILED_OFFLINE,
  FAILED_PIDS,
  FAILED_PORTS,
  FAILED_VOLUMES,
  RejectionLog,
  type VolumeHolders,
} from "./rejection-log";
import type { PlacementRequest, PlacementResult, ResourceAmounts, SchedulerHost } from "./types";

// Imported functions and constants bound once: the hot loops below call
// them per host, and modules compiled to CommonJS (tsx, vitest) reach
// imports through a getter on every use.
const freeFraction_ = freeFraction;
const freeLevel_ = freeLevel;
const LEVELS_ = LEVELS;
const binpackCost_ = binpackCost;
const spreadCost_ = spreadCost;
const tenTo_ = tenTo;

/**
 * Picks a host for one container: filter (online, not draining, requests fit
 * the free allocatable, label constraints, host ports free, holds the named
 * volumes that exist somewhere), then score by the request's strategy (see
 * `fit-score.ts`), ties broken by host name then id. Pure: the same cluster
 * and request always give the same answer, and nothing is changed; record
 * the choice with `ClusterView.place`. A plain array is copied into a
 * throwaway view first (hosts sharing an id: the last one counts); callers
 * that schedule often keep a `ClusterView`.
 *
 * The choice visits only the groups of hosts (`FreeCapacityIndex`) that can
 * hold the best one. Why every other host was ruled out, and how many fit,
 * is worked out over the same snapshot of the hosts when first read
 * (`reason`, `rejected`), or at once when nothing fits.
 */
export function schedule(
  cluster: readonly SchedulerHost[] | ClusterView,
  request: PlacementRequest,
): PlacementResult {
  const view = cluster instanceof ClusterView ? cluster : new ClusterView(cluster);
  const columns = view.columns();
  const { count, records } = columns;
  const take = effectiveRequests(request.resources);
  const filter = new HostFilter(view, columns, request, take);
  const avoid = new Set(request.avoidHostIds);
  const binpack = request.strategy === "binpack";
  const openCost = binpack ? startingCost(view.capacityIndex(), take) : 0;

  const choice = searchCells(view, columns, filter, binpack, openCost, avoid);
  let avoidedChoice = false;
  if (choice.position < 0) {
    // Every other host is out: the best avoided host that fits, looked up by id.
    for (const id of avoid) {
      const position = view.positionOf(id);
      if (position === undefined || filter.failed(position) !== 0) continue;
      choice.consider(position, hostCost(columns, take, binpack, openCost, position));
    }
    avoidedChoice = choice.position >= 0;
  }

  let tally: Tally | undefined;
  const tallyOnce = () => {
    tally ??= filter.tally(avoid);
    return tally;
  };

  const chosen = choice.position >= 0 ? records.get(choice.position) : undefined;
  if (chosen === undefined) {
    const message =
      count === 0
        ? "no host fits: the cluster has no hosts"
        : `no host fits: ${tallyOnce().rejections.describe()}`;
    return {
      ok: false,
      message,
      get rejected() {
        return tallyOnce().rejections.rejections();
      },
    };
  }

  const { wantedVolumes, existingVolumes } = filter;
  const strategy = request.strategy;
  return {
    ok: true,
    hostId: chosen.id,
    hostName: chosen.name,
    score: costToScore(strategy, choice.cost),
    get reason() {
      const { fits, avoidedFits } = tallyOnce();
      const cpuAfter = usedFraction(
        chosen.allocated.cpuMillis + take.cpuMillis,
        chosen.allocatable.cpuMillis,
      );
      const memoryAfter = usedFraction(
        chosen.allocated.memoryBytes + take.memoryBytes,
        chosen.allocatable.memoryBytes,
      );
      let fitText = `${fits} of ${count} hosts fit`;
      if (!avoidedChoice && avoidedFits > 0) fitText += ` (${avoidedFits} avoided)`;
      const rule = binpack ? "best fit" : "least allocated";
      let choiceText = `chose ${chosen.name} (${rule}: cpu ${percent(cpuAfter)}, memory ${percent(memoryAfter)} after placement)`;
      if (avoidedChoice) choiceText += ", a host to avoid, as no other host fits";
      if (wantedVolumes.length > 0) {
        const existing = new Set(existingVolumes);
        const volumeTexts = [...new Set(wantedVolumes)].map((name) =>
          existing.has(name) ? `volume "${name}" is on this host` : `volume "${name}" will be created here`,
        );
        choiceText += `; ${volumeTexts.join(", ")}`;
      }
      return `${strategy}: ${fitText}; ${choiceText}`;
    },
    get rejected() {
      return tallyOnce().rejections.rejections();
    },
  };
}

/** What starting an empty host costs binpack for this request (`openHostCost`). */
function startingCost(index: FreeCapacityIndex, take: ResourceAmounts): number {
  const totals = index.totals();
  const shape = sameShape(
    freeFraction_(take.cpuMillis, totals.allocatableCpu),
    freeFraction_(take.memoryBytes, totals.allocatableMemory),
    freeFraction_(totals.allocatedCpu, totals.allocatableCpu),
    freeFraction_(totals.allocatedMemory, totals.allocatableMemory),
  );
  return openHostCost(index.freeInUsedHosts(), shape);
}

/** The best host so far: lowest cost, then first position (name-then-id order). */
class Choice {
  position = -1;
  cost = Number.POSITIVE_INFINITY;

  consider(position: number, cost: number): void {
    if (cost < this.cost || (cost === this.cost && position < this.position)) {
      this.position = position;
      this.cost = cost;
    }
  }
}

/** Below any host cost a cell's bound could be off by through rounding. */
const BOUND_SLACK = 1e-9;

/**
 * The best host outside `avoid`: cells in order of the lowest cost any of
 * their hosts could have, until the next cell cannot beat the best host
 * found. binpack's best host in a cell is its first that passes the filters
 * (the cost rises with the key); spread's cost is two multiplications per
 * host, so a visited cell is read whole.
 */
function searchCells(
  view: ClusterView,
  columns: HostColumns,
  filter: HostFilter,
  binpack: boolean,
  openCost: number,
  avoid: ReadonlySet<string>,
): Choice {
  const index = view.capacityIndex();
  const live = index.liveCells();
  const take = filter.take;
  const shapes = new ShapeTerms(index, take);
  const bounds = Float64Array.from(live, (cell) => cellBound(index, shapes, cell, binpack, openCost));
  const { records, freeCpu, freeMemory, freePids } = columns;
  const fits = (i: number): boolean =>
    take.cpuMillis <= freeCpu[i]! &&
    take.memoryBytes <= freeMemory[i]! &&
    take.pids <= freePids[i]! &&
    filter.passesPortsLabelsVolumes(i) &&
    !avoid.has(records.get(i).id);
  const tenCpu = index.tenToFreeCpu();
  const tenMemory = index.tenToFreeMemory();
  const choice = new Choice();
  for (;;) {
    let next = -1;
    let lowest = Number.POSITIVE_INFINITY;
    for (let j = 0; j < bounds.length; j++) {
      if (bounds[j]! < lowest) {
        lowest = bounds[j]!;
        next = j;
      }
    }
    if (next < 0 || lowest > choice.cost) return choice;
    bounds[next] = Number.POSITIVE_INFINITY;
    const cell = live[next]!;
    const hosts = index.hostsIn(cell);
    if (binpack) {
      const first = hosts.find(fits);
      if (first !== undefined) choice.consider(first, hostCost(columns, take, true, openCost, first));
      continue;
    }
    const shape = index.shapeOf(cell);
    const cpuTerm = shapes.tenToMinusCpu[shape]!;
    const memoryTerm = shapes.tenToMinusMemory[shape]!;
    // From the emptiest host down: the best one is usually met first, so fewer hosts go through the filters.
    for (let h = hosts.length - 1; h >= 0; h--) {
      const i = hosts[h]!;
      // spreadCost_, with this host's 10^free already at hand.
      const cost = -(tenCpu[i]! * cpuTerm + tenMemory[i]! * memoryTerm);
      if (cost <= choice.cost && fits(i)) choice.consider(i, cost);
    }
  }
}

/** Per host shape, the request as fractions of it and spread's factors 10^-take. */
class ShapeTerms {
  readonly takeCpu: number[] = [];
  readonly takeMemory: number[] = [];
  readonly tenToMinusCpu: number[] = [];
  readonly tenToMinusMemory: number[] = [];

  constructor(index: FreeCapacityIndex, take: ResourceAmounts) {
    for (const shape of index.shapes()) {
      const cpu = freeFraction_(take.cpuMillis, shape.cpu);
      const memory = freeFraction_(take.memoryBytes, shape.memory);
      this.takeCpu.push(cpu);
      this.takeMemory.push(memory);
      this.tenToMinusCpu.push(tenTo_(-cpu));
      this.tenToMinusMemory.push(tenTo_(-memory));
    }
  }
}

/**
 * A lower bound on the cost of any host in the cell that fits the request
 * (a little under, for rounding), or infinity when none of them can fit:
 * every host of a step has less free than the top of the step, so when that
 * is at most the request, none fits (f < high <= take implies free < take,
 * as division rounds monotonically and high is exact).
 */
function cellBound(
  index: FreeCapacityIndex,
  shapes: ShapeTerms,
  cell: number,
  binpack: boolean,
  openCost: number,
): number {
  const shape = index.shapeOf(cell);
  const cpuLevel = index.cpuLevelOf(cell);
  const memoryLevel = index.memoryLevelOf(cell);
  const takeCpu = shapes.takeCpu[shape]!;
  const takeMemory = shapes.takeMemory[shape]!;
  const { cpu, memory } = index.shapes()[shape]!;
  const cpuHigh = stepTop(cpuLevel, cpu);
  const memoryHigh = stepTop(memoryLevel, memory);
  if (cpuHigh <= takeCpu && takeCpu > 0) return Number.POSITIVE_INFINITY;
  if (memoryHigh <= takeMemory && takeMemory > 0) return Number.POSITIVE_INFINITY;
  if (binpack) {
    // Exact for the cell's first host, and the cost only rises along the cell.
    const first = index.hostsIn(cell)[0]!;
    return (
      binpackCost_(takeCpu, takeMemory, cpuLevel, memoryLevel, index.keyAt(first), openCost) - BOUND_SLACK
    );
  }
  // Exact as it stands: 10^x, products and sums round monotonically, and every host has less free than the top.
  return spreadCost_(cpuHigh, memoryHigh, takeCpu, takeMemory);
}

/** The top of a step of free fractions: every host in it has less free; unbounded for the fully free step. */
function stepTop(level: number, allocatable: number): number {
  if (!(allocatable > 0)) return 0;
  return level < LEVELS_ ? (level + 1) / LEVELS_ : Number.POSITIVE_INFINITY;
}

function hostCost(
  columns: HostColumns,
  take: ResourceAmounts,
  binpack: boolean,
  openCost: number,
  i: number,
): number {
  const allocatableCpu = columns.allocatableCpu[i]!;
  const allocatableMemory = columns.allocatableMemory[i]!;
  const freeCpu = columns.freeCpu[i]!;
  const freeMemory = columns.freeMemory[i]!;
  const takeCpu = freeFraction_(take.cpuMillis, allocatableCpu);
  const takeMemory = freeFraction_(take.memoryBytes, allocatableMemory);
  const freeCpuFraction = freeFraction_(freeCpu, allocatableCpu);
  const freeMemoryFraction = freeFraction_(freeMemory, allocatableMemory);
  if (!binpack) return spreadCost_(freeCpuFraction, freeMemoryFraction, takeCpu, takeMemory);
  return binpackCost_(
    takeCpu,
    takeMemory,
    freeLevel_(freeCpu, allocatableCpu),
    freeLevel_(freeMemory, allocatableMemory),
    freeCpuFraction + freeMemoryFraction,
    openCost,
  );
}

type Tally = { rejections: RejectionLog; fits: number; avoidedFits: number };

/**
 * The filters other than the resource amounts, for one request, over the
 * records the view handed out with its columns (a snapshot: later changes
 * to the view replace records, never change them), so they can still be
 * applied after the view moved on.
 */
class HostFilter {
  readonly take: ResourceAmounts;
  readonly wantedVolumes: readonly string[];
  /** The wanted volumes that exist on some host: a host must hold them all. */
  readonly existingVolumes: readonly string[];
  readonly #records: RecordSnapshot;
  readonly #hostPorts: HostPortMapping[];
  readonly #constraints: PlacementRequest["constraints"];
  /** Per label set (hosts with equal labels share one frozen object): whether it meets the constraints. */
  readonly #labelVerdicts = new Map<Readonly<Record<string, string>>, boolean>();
  /** Per host, how many of the existing wanted volumes it holds. */
  readonly #volumeCounts: Uint16Array | undefined;
  readonly #volumeHolders: VolumeHolders[];

  constructor(view: ClusterView, columns: HostColumns, request: PlacementRequest, take: ResourceAmounts) {
    this.take = take;
    this.#records = columns.records;
    this.#hostPorts = request.ports.filter(takesHostPort);
    this.#constraints = request.constraints;
    this.wantedVolumes = request.volumes ?? [];
    const volumes = view.volumeHolders(this.wantedVolumes);
    this.#volumeCounts = volumes.counts;
    this.existingVolumes = volumes.existing;
    this.#volumeHolders = volumeHoldersOf(view, volumes.existing);
  }

  passesPortsLabelsVolumes(i: number): boolean {
    return this.#failedOthers(i) === 0;
  }

  /** Every filter the host fails, as FAILED_* bits: all of them, so a reader sees everything wrong. */
  failed(i: number): number {
    const host = this.#records.get(i);
    const { allocatable, allocated } = host;
    let failed = this.#failedOthers(i);
    if (!host.online) failed |= FAILED_OFFLINE;
    if (host.draining) failed |= FAILED_DRAINING;
    if (this.take.cpuMillis > allocatable.cpuMillis - allocated.cpuMillis) failed |= FAILED_CPU;
    if (this.take.memoryBytes > allocatable.memoryBytes - allocated.memoryBytes) failed |= FAILED_MEMORY;
    if (this.take.pids > allocatable.pids - allocated.pids) failed |= FAILED_PIDS;
    return failed;
  }

  /** Every host through every filter: the rejections and how many fit (and of those, how many are avoided). */
  tally(avoid: ReadonlySet<string>): Tally {
    const rejections = new RejectionLog(
      this.#records,
      this.take,
      this.#hostPorts,
      this.#constraints,
      this.#volumeHolders,
    );
    let avoidedFits = 0;
    for (let i = 0; i < this.#records.length; i++) {
      const failed = this.failed(i);
      if (failed !== 0) rejections.add(i, failed);
      else if (avoid.has(this.#records.get(i).id)) avoidedFits++;
    }
    return { rejections, fits: this.#records.length - rejections.size, avoidedFits };
  }

  #failedOthers(i: number): number {
    const host = this.#records.get(i);
    let failed = 0;
    for (const wanted of this.#hostPorts) {
      if (findPortConflict(wanted, host.usedHostPorts) !== undefined) failed |= FAILED_PORTS;
    }
    let meets = this.#labelVerdicts.get(host.labels);
    if (meets === undefined) {
      meets = matchesLabels(this.#constraints, host.labels);
      this.#labelVerdicts.set(host.labels, meets);
    }
    if (!meets) failed |= FAILED_CONSTRAINTS;
    if (this.#volumeCounts !== undefined && this.#volumeCounts[i]! < this.existingVolumes.length) {
      failed |= FAILED_VOLUMES;
    }
    return failed;
  }
}

/**
 * The hosts holding each existing volume, for rejection reasons. Taken now,
 * not when read: later placements change the view, and reasons describe the
 * cluster this decision saw. Few hosts hold any one volume.
 */
function volumeHoldersOf(view: ClusterView, existing: readonly string[]): VolumeHolders[] {
  return existing.map((name) => ({
    name,
    hostNames: view
      .hostsWithVolume(name)
      .map((id) => view.get(id)!.name)
      .sort(),
  }));
}

function usedFraction(used: number, allocatable: number): number {
  return allocatable > 0 ? used / allocatable : 1;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
