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

/**
 * binpack's weight on how much is left free after placement, next to the
 * misalignment: enough to prefer the fuller of two equally aligned hosts,
 * too little to outweigh the alignment of any but small requests.
 */
export const BINPACK_FULLNESS_WEIGHT = 0.002;
/**
 * What starting an empty host costs, next to a used host's misalignment
 * (`openHostCost`). Starting a host only when no used host fits leaves each
 * host to be finished by whatever fits last, and that strands one resource:
 * on the scheduler bench's synthetic trace 8% over the lower bound, and no
 * way of choosing among used hosts tried did better than 7%. Starting one
 * whenever it fits a request better strands less on each host but keeps
 * ever more hosts half full, and the hosts half full when the stream ends
 * are waste (Google-shaped trace: 10 to 40% over instead of 0.6%). Charging
 * for the free capacity already spread over used hosts keeps that pool
 * small: 2.8% and 0.3% over the bounds (bench/scheduler; 1.9 to 3.0% over
 * six seeds of the synthetic trace, 0.3 and 0.5% over two of the
 * Google-shaped one). The constant keeps small, well-aligned requests on
 * used hosts.
 */
export const OPEN_HOST_COST = 0.005;
export const OPEN_HOST_COST_PER_FREE_HOST = 0.0007;
/**
 * Starting a host early bets that later requests of another shape will use
 * what a lopsided used host has left. A request shaped like everything
 * placed so far (one deployment's replicas on an otherwise empty fleet) gives
 * no ground for that bet, so starting a host costs this much more for it:
 * more than any misfit (at most the request's length, √2), so such replicas
 * fill one host before the next, as when used hosts always came first. It
 * fades out over `SAME_SHAPE_SPREAD` of one minus the cosine between the
 * request and the total allocated (about 3.6 degrees); on the synthetic
 * trace it moves the figure by a host or two either way across seeds.
 */
export const SAME_SHAPE_OPEN_COST = 1.5;
export const SAME_SHAPE_SPREAD = 0.002;

/**
 * The cost of starting an empty host: `freeInUsedHosts` is what the used
 * hosts have free in hosts' worth, `sameShape` from 0 to 1 how much the
 * request is shaped like what is allocated (`sameShape`).
 */
export function openHostCost(freeInUsedHosts: number, sameShape: number): number {
  return OPEN_HOST_COST + OPEN_HOST_COST_PER_FREE_HOST * freeInUsedHosts + SAME_SHAPE_OPEN_COST * sameShape;
}

/**
 * 1 when the request points the same way as the total allocated, falling to
 * 0 as the two part (`SAME_SHAPE_SPREAD`); 1 when nothing is allocated yet
 * (the request is all there is). Both as (cpu, memory) fractions of the
 * hosts' total allocatable, so a resource counts by its share of the fleet.
 */
export function sameShape(
  takeCpu: number,
  takeMemory: number,
  allocatedCpu: number,
  allocatedMemory: number,
): number {
  const lengths = Math.sqrt(
    (takeCpu * takeCpu + takeMemory * takeMemory) *
      (allocatedCpu * allocatedCpu + allocatedMemory * allocatedMemory),
  );
  if (!(lengths > 0)) return 1;
  const cosine = (takeCpu * allocatedCpu + takeMemory * allocatedMemory) / lengths;
  return Math.max(0, 1 - (1 - cosine) / SAME_SHAPE_SPREAD);
}

/**
 * How much of the request does not point the way the host's free capacity
 * does, both as (cpu, memory) fractions of the host: the request's length
 * less its projection on the free vector, which is its length times one
 * minus the cosine of the two (Tetris's alignment, Grandl et al., SIGCOMM
 * 2014, normalised). 0 when the host has free what the request asks for in
 * the same proportion, or when either is all zero; at most the request's
 * length, when the two are at right angles.
 */
export function misalignment(
  takeCpu: number,
  takeMemory: number,
  freeCpu: number,
  freeMemory: number,
): number {
  const freeLength = Math.sqrt(freeCpu * freeCpu + freeMemory * freeMemory);
  if (!(freeLength > 0)) return 0;
  return (
    Math.sqrt(takeCpu * takeCpu + takeMemory * takeMemory) -
    (takeCpu * freeCpu + takeMemory * freeMemory) / freeLength
  );
}

const SIDE = LEVELS_ + 1;
/** Per pair of steps (cpu step × SIDE + memory step): the middles of the steps, as a vector of length 1. */
const UNIT_CPU = Float64Array.from({ length: SIDE * SIDE }, (_, steps) => unitMiddles(steps)[0]);
const UNIT_MEMORY = Float64Array.from({ length: SIDE * SIDE }, (_, steps) => unitMiddles(steps)[1]);

function unitMiddles(steps: number): [cpu: number, memory: number] {
  const cpu = stepMiddle(Math.floor(steps / SIDE));
  const memory = stepMiddle(steps % SIDE);
  const length = Math.hypot(cpu, memory);
  return [cpu / length, memory / length];
}

/**
 * binpack, multi-resource best fit: the host whose free cpu and memory best
 * match the request's shape (so a cpu-heavy container goes where cpu is left
 * over and the host ends up using both resources), then the one left
 * fullest. The misalignment counts in the request's own size: a small
 * request strands little wherever it goes, a large one much. Scoring one
 * resource at a time, or the two summed, fills hosts on one resource and
 * strands the other. An empty host costs `openCost` more (`openHostCost`).
 * The misalignment is taken with the middle of the host's step of free cpu
 * and memory (sixteenths, `freeLevel`), so all hosts of a step share it and
 * the search finds the best of a step by its key alone.
 *
 * `freeSum` is the host's free fractions of cpu and memory summed, before placement.
 */
export function binpackCost(
  takeCpu: number,
  takeMemory: number,
  cpuLevel: number,
  memoryLevel: number,
  freeSum: number,
  openCost: number,
): number {
  // misalignment() with the steps' middles, whose direction is looked up rather than worked out.
  const steps = cpuLevel * SIDE + memoryLevel;
  const cost =
    Math.sqrt(takeCpu * takeCpu + takeMemory * takeMemory) -
    (takeCpu * UNIT_CPU[steps]! + takeMemory * UNIT_MEMORY[steps]!) +
    BINPACK_FULLNESS_WEIGHT * (freeSum - takeCpu - takeMemory);
  return cpuLevel >= LEVELS_ && memoryLevel >= LEVELS_ ? cost + openCost : cost;
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
  // binpack costs are 0 at best (aligned, full after) and have no upper end.
  return 1 / (1 + Math.max(0, cost));
}

function clampUnit(value: number): number {
  return Math.min(1, Math.max(0, value));
}
