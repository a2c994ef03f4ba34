// Free capacity as the scheduler measures it: a fraction of the host's
// allocatable, and steps of a sixteenth of it.

/** Steps of free capacity per resource; a power of two, so `free / allocatable * LEVELS` is exact. */
export const LEVELS = 16;

/** A host with none of a resource counts as full: only requests of 0 fit it. */
export function freeFraction(free: number, allocatable: number): number {
  return allocatable > 0 ? free / allocatable : 0;
}

/**
 * The step of a free fraction: 0 to LEVELS - 1 for [k/16, (k+1)/16), LEVELS
 * for a fully free resource (nothing allocated). A resource with nothing
 * allocatable counts as full (step 0), as `freeFraction` does.
 */
export function freeLevel(free: number, allocatable: number): number {
  if (!(allocatable > 0)) return 0;
  return Math.min(LEVELS, Math.max(0, Math.floor((free / allocatable) * LEVELS)));
}

/** The middle of a step; 1 for a fully free resource. */
export function stepMiddle(level: number): number {
  return level >= LEVELS ? 1 : (level + 0.5) / LEVELS;
}
