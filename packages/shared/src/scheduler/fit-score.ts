// How well a host fits a request, as a cost: lower is better, for both
// strategies, so the search keeps one comparison. All amounts are fractions
// of the host's allocatable: `take` what the request asks for, `free` what is
// free before placement, `after` what is free after it.
import { LEVELS, stepMiddle } from "./free-steps";
import type { PlacementStrategy } from "./types";

// Imported functions and constants bound once: the hot loops below call
// them per host, and modules compiled to CommonJS (tsx, vitest) reach
// imports through a getter on every use.
const LEVELS_ = LEVELS;
const stepMiddle_ = stepMiddle;

/**
 * binpack's weight on how much is left free after placement, next to the
 * alignment (which runs from 0 to 1): enough to prefer the fuller of two
 * equally aligned hosts, too little to outweigh the alignment. On the
 * scheduler bench's synthetic trace (bench/scheduler) 0.01 packs into 8.0%
 * over the lower bound, 0.05 into 8.2%, and it tends to plain best fit's
 * 9.4% as the weight grows.
 */
export const BINPACK_FULLNESS_WEIGHT = 0.01;
/**
 * Added for an empty host, more than any used host can cost: binpack starts
 * a new host only when no used host fits, which is what people choosing
 * binpack count on. A smaller penalty, which starts an empty host instead of
 * a badly aligned used one, packs the synthetic trace tighter (0.2: 6.7%,
 * 0.1: 4.4% over the bound) but the Google-shaped trace looser (3.8%, 11.3%
 * against 0.6%), and leaves several hosts partly filled.
 */
export const EMPTY_HOST_PENALTY = 2;

/**
 * The cosine between the request and the host's free capacity, both as
 * (cpu, memory) fractions of the host: 1 when the host has free what the
 * request asks for in the same proportion, Tetris's alignment (Grandl et
 * al., SIGCOMM 2014) normalised. 1 when either has no direction (all zero).
 */
export function alignment(takeCpu: number, takeMemory: number, freeCpu: number, freeMemory: number): number {
  const norms = Math.sqrt(
    (takeCpu * takeCpu + takeMemory * takeMemory) * (freeCpu * freeCpu + freeMemory * freeMemory),
  );
  return norms > 0 ? (takeCpu * freeCpu + takeMemory * freeMemory) / norms : 1;
}

/**
 * binpack, multi-resource best fit: used hosts before empty ones; among
 * them the host whose free cpu and memory best match the request's shape
 * (so a cpu-heavy container goes where cpu is left over and the host ends
 * up using both resources), then the one left fullest. Scoring one resource
 * at a time, or the two summed, fills hosts on one resource and strands the
 * other. The alignment is taken with the middle of the host's step of free
 * cpu and memory (sixteenths, `freeLevel`), so all hosts of a step share it
 * and the search finds the best of a step by its key alone; packing measured
 * the same as with the exact free fractions.
 *
 * `freeSum` is the host's free fractions of cpu and memory summed, before placement.
 */
export function binpackCost(
  takeCpu: number,
  takeMemory: number,
  cpuLevel: number,
  memoryLevel: number,
  freeSum: number,
): number {
  const cost =
    BINPACK_FULLNESS_WEIGHT * (freeSum - takeCpu - takeMemory) -
    alignment(takeCpu, takeMemory, stepMiddle_(cpuLevel), stepMiddle_(memoryLevel));
  return cpuLevel >= LEVELS_ && memoryLevel >= LEVELS_ ? cost + EMPTY_HOST_PENALTY : cost;
}

/** 10^x as exp: several times cheaper than `10 **` in V8 and equal up to rounding. */
export function tenTo(x: number): number {
  return Math.exp(x * Math.LN10);
}

/**
 * spread: Nomad's fit total (structs.ScoreFitSpread, after the WorstFit of
 * Google's data-center scheduling work) negated: 10^after(cpu) +
 * 10^after(memory) runs from 2 (full) to 20 (empty); the largest wins.
 * Worked out as 10^free × 10^-take, so a host's 10^free is computed once
 * when it changes (`FreeCapacityIndex`), not once per request.
 */
export function spreadCost(freeCpu: number, freeMemory: number, takeCpu: number, takeMemory: number): number {
  return -(tenTo(freeCpu) * tenTo(-takeCpu) + tenTo(freeMemory) * tenTo(-takeMemory));
}

/** A cost as a score in [0, 1], higher is better; a lower cost never gets a lower score. */
export function costToScore(strategy: PlacementStrategy, cost: number): number {
  if (strategy === "spread") return clampUnit((-cost - 2) / 18);
  // binpack costs run from -1 to 2 * weight, or that plus the penalty for an empty host.
  const empty = cost >= 1;
  const used = clampUnit(
    (2 * BINPACK_FULLNESS_WEIGHT - (empty ? cost - EMPTY_HOST_PENALTY : cost)) /
      (1 + 2 * BINPACK_FULLNESS_WEIGHT),
  );
  return empty ? used / 2 : 0.5 + used / 2;
}

function clampUnit(value: number): number {
  return Math.min(1, Math.max(0, value));
}
