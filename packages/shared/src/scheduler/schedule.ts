import type { TPortMappingInput } from "../domain/container-spec";
import { matchesLabels } from "../label-selector";
import { ClusterView, HOST_DRAINING, HOST_OFFLINE } from "./cluster-view";
import { effectiveRequests } from "./effective-requests";
import { findPortConflict, type HostPortMapping, takesHostPort } from "./host-ports";
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
import type { PlacementRequest, PlacementResult, PlacementStrategy, SchedulerHost } from "./types";

/**
 * Picks a host for one container: filter (online, not draining, requests fit
 * the free allocatable, label constraints, host ports free, holds the named
 * volumes that exist somewhere), then score by the
 * request's strategy, ties broken by host name then id. Pure: the same
 * cluster and request always give the same answer, and nothing is changed;
 * record the choice with `ClusterView.place`. A plain array is copied into a
 * throwaway view first (hosts sharing an id: the last one counts); callers
 * that schedule often keep a `ClusterView`.
 */
export function schedule(
  cluster: readonly SchedulerHost[] | ClusterView,
  request: PlacementRequest,
): PlacementResult {
  const view = cluster instanceof ClusterView ? cluster : new ClusterView(cluster);
  const columns = view.columns();
  const { count, records, flags, freeCpu, freeMemory, freePids, allocatableCpu, allocatableMemory } = columns;
  const take = effectiveRequests(request.resources);
  const takeCpu = take.cpuMillis;
  const takeMemory = take.memoryBytes;
  const takePids = take.pids;
  const hostPorts: HostPortMapping[] = request.ports.filter(takesHostPort);
  // Only hosts already binding one of the wanted port numbers can conflict.
  const portSuspects =
    hostPorts.length > 0 ? view.hostsBindingPorts(hostPorts.map((p) => p.hostPort)) : undefined;
  const constraints = request.constraints;
  const labelSet = columns.labelSet;
  // Per distinct label set: 0 not checked yet, 1 meets the constraints, 2 does not.
  const labelVerdicts = constraints.length > 0 ? new Uint8Array(columns.labelSets.length) : undefined;
  const avoidIds = request.avoidHostIds;
  const avoid = avoidIds !== undefined && avoidIds.length > 0 ? new Set(avoidIds) : undefined;
  const binpack = request.strategy === "binpack";
  const wantedVolumes = request.volumes ?? [];
  // Per host, how many of the wanted volumes that exist somewhere it holds: it must hold them all.
  const volumes = wantedVolumes.length > 0 ? view.volumeHolders(wantedVolumes) : undefined;
  const volumeCounts = volumes?.counts;
  const existingVolumes = volumes?.existing.length ?? 0;
  const rejections = new RejectionLog(
    records,
    take,
    hostPorts,
    constraints,
    volumes ? volumeHoldersOf(view, volumes.existing) : [],
  );
  const probe: TPortMappingInput = { containerPort: 1 };

  // Hosts are compared by Nomad's fit total (see `fitTotal`): binpack wants
  // the smallest, spread the largest. The best host outside `avoid`, and the
  // best inside it as a fallback.
  let best = -1;
  let bestTotal = Number.NaN;
  let bestCpuFree = Number.NaN;
  let bestMemoryFree = Number.NaN;
  let bestAvoided = -1;
  let bestAvoidedTotal = Number.NaN;
  let avoidedFits = 0;
  // Bounds on the free fractions past which a host cannot beat `best`, so
  // most hosts are passed over without the two exponentials.
  let pruneMaxAbove = Number.POSITIVE_INFINITY;
  let pruneSumAbove = Number.POSITIVE_INFINITY;
  let pruneMaxBelow = Number.NEGATIVE_INFINITY;
  let pruneSumBelow = Number.NEGATIVE_INFINITY;

  for (let i = 0; i < count; i++) {
    const hostFlags = flags[i]!;
    const cpuLeft = freeCpu[i]!;
    const memoryLeft = freeMemory[i]!;
    const pidsLeft = freePids[i]!;

    // Every filter runs even after one failed, so a person reading the
    // rejection sees all that is wrong with a host, not just the first thing.
    let failed = 0;
    if (hostFlags & HOST_OFFLINE) failed |= FAILED_OFFLINE;
    if (hostFlags & HOST_DRAINING) failed |= FAILED_DRAINING;
    if (takeCpu > cpuLeft) failed |= FAILED_CPU;
    if (takeMemory > memoryLeft) failed |= FAILED_MEMORY;
    if (takePids > pidsLeft) failed |= FAILED_PIDS;
    if (portSuspects?.[i] === 1) {
      const used = records[i]!.usedHostPorts;
      for (let p = 0; p < hostPorts.length; p++) {
        if (findPortConflict(hostPorts[p]!, used, probe) !== undefined) {
          failed |= FAILED_PORTS;
          break;
        }
      }
    }
    if (labelVerdicts !== undefined) {
      const set = labelSet[i]!;
      let verdict = labelVerdicts[set]!;
      if (verdict === 0) {
        verdict = matchesLabels(constraints, columns.labelSets[set]!) ? 1 : 2;
        labelVerdicts[set] = verdict;
      }
      if (verdict === 2) failed |= FAILED_CONSTRAINTS;
    }
    if (volumeCounts !== undefined && volumeCounts[i]! < existingVolumes) failed |= FAILED_VOLUMES;

    if (failed !== 0) {
      rejections.add(i, failed);
      continue;
    }

    const cpuFree = freeFraction(cpuLeft - takeCpu, allocatableCpu[i]!);
    const memoryFree = freeFraction(memoryLeft - takeMemory, allocatableMemory[i]!);
    if (avoid?.has(records[i]!.id)) {
      avoidedFits++;
      const total = fitTotal(cpuFree, memoryFree);
      if (isBetter(binpack, total, bestAvoidedTotal, bestAvoided)) {
        bestAvoided = i;
        bestAvoidedTotal = total;
      }
      continue;
    }

    const maxFree = Math.max(cpuFree, memoryFree);
    const sumFree = cpuFree + memoryFree;
    if (maxFree > pruneMaxAbove || sumFree > pruneSumAbove || maxFree < pruneMaxBelow) continue;
    if (sumFree < pruneSumBelow && maxFree <= 1) continue;
    // A host just like the best so far ties with it, and ties go to the earlier host.
    if (cpuFree === bestCpuFree && memoryFree === bestMemoryFree) continue;
    const total = fitTotal(cpuFree, memoryFree);
    if (isBetter(binpack, total, bestTotal, best)) {
      best = i;
      bestTotal = total;
      bestCpuFree = cpuFree;
      bestMemoryFree = memoryFree;
      // A host that fits has both free fractions at 0 or more, so 10^f >= 1.
      // binpack: its total is at least 10^max + 1 and, by convexity, at
      // least 2 * 10^(sum / 2). spread: at most 2 * 10^max and, while both
      // fractions are at most 1, at most 2 + 9 * sum (10^f lies under its
      // chord 1 + 9f). PRUNE_SLACK keeps hosts that tie with `best` despite
      // rounding, for the tie-break.
      if (binpack) {
        pruneMaxAbove = Math.log10(bestTotal - 1) + PRUNE_SLACK;
        pruneSumAbove = 2 * Math.log10(bestTotal / 2) + PRUNE_SLACK;
      } else {
        pruneMaxBelow = Math.log10(bestTotal / 2) - PRUNE_SLACK;
        pruneSumBelow = (bestTotal - 2) / 9 - PRUNE_SLACK;
      }
    }
  }

  const chosenIndex = best >= 0 ? best : bestAvoided;
  const chosen = records[chosenIndex];
  if (chosen === undefined) {
    const message =
      count === 0 ? "no host fits: the cluster has no hosts" : `no host fits: ${rejections.describe()}`;
    return {
      ok: false,
      message,
      get rejected() {
        return rejections.rejections();
      },
    };
  }

  const fits = count - rejections.size;
  const cpuAfter = usedFraction(chosen.allocated.cpuMillis + take.cpuMillis, chosen.allocatable.cpuMillis);
  const memoryAfter = usedFraction(
    chosen.allocated.memoryBytes + take.memoryBytes,
    chosen.allocatable.memoryBytes,
  );
  let fitText = `${fits} of ${count} hosts fit`;
  if (best >= 0 && avoidedFits > 0) fitText += ` (${avoidedFits} avoided)`;
  let choiceText = `chose ${chosen.name} (${binpack ? "most" : "least"} allocated: cpu ${percent(cpuAfter)}, memory ${percent(memoryAfter)} after placement)`;
  if (best < 0) choiceText += ", a host to avoid, as no other host fits";
  if (wantedVolumes.length > 0) {
    const existing = new Set(volumes?.existing);
    const volumeTexts = [...new Set(wantedVolumes)].map((name) =>
      existing.has(name) ? `volume "${name}" is on this host` : `volume "${name}" will be created here`,
    );
    choiceText += `; ${volumeTexts.join(", ")}`;
  }
  return {
    ok: true,
    hostId: chosen.id,
    hostName: chosen.name,
    score: totalToScore(request.strategy, best < 0 ? bestAvoidedTotal : bestTotal),
    reason: `${request.strategy}: ${fitText}; ${choiceText}`,
    get rejected() {
      return rejections.rejections();
    },
  };
}

const PRUNE_SLACK = 1e-9;

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
      .map((id) => view.get(id)?.name ?? id)
      .sort(),
  }));
}

/**
 * Nomad's fit total (structs.ScoreFitBinPack / ScoreFitSpread, after the
 * BestFit v3 and WorstFit of Google's data-center scheduling work):
 * 10^free(cpu) + 10^free(memory), with free the fraction left after
 * placement. It runs from 2 (full) to 20 (empty); the exponent makes balanced
 * use of both resources count as fuller than one full next to one idle.
 */
function fitTotal(cpuFree: number, memoryFree: number): number {
  // exp is several times cheaper than `10 **` in V8 and equal up to rounding.
  return Math.exp(cpuFree * Math.LN10) + Math.exp(memoryFree * Math.LN10);
}

/** Nomad's [0, 18] score scaled to [0, 1]; higher is better for the strategy. */
function totalToScore(strategy: PlacementStrategy, total: number): number {
  const raw = strategy === "binpack" ? 20 - total : total - 2;
  if (raw <= 0) return 0;
  if (raw >= 18) return 1;
  return raw / 18;
}

/** The score a host gets with the given fractions of cpu and memory in use after placement. */
export function scoreFit(strategy: PlacementStrategy, cpuUsedAfter: number, memoryUsedAfter: number): number {
  return totalToScore(strategy, fitTotal(1 - cpuUsedAfter, 1 - memoryUsedAfter));
}

// A host with none of a resource counts as full: only requests of 0 fit it.
function freeFraction(freeAfter: number, allocatable: number): number {
  return allocatable > 0 ? freeAfter / allocatable : 0;
}

function usedFraction(used: number, allocatable: number): number {
  return allocatable > 0 ? used / allocatable : 1;
}

// Strictly better only: hosts come in name-then-id order, so among equal
// totals the first one seen is the tie-break winner.
function isBetter(binpack: boolean, total: number, bestTotal: number, best: number): boolean {
  if (best < 0) return true;
  return binpack ? total < bestTotal : total > bestTotal;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
