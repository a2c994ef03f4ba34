import type { ClusterView } from "./cluster-view";
import { schedule } from "./schedule";
import type { PlacementFailure, PlacementRequest, PlacementResult, PlacementSuccess } from "./types";

export type ScheduleManyOptions = {
  /**
   * Place all requests or none: on the first one that does not fit, undo the
   * placements made so far and stop. Default false: place what fits.
   */
  allOrNothing?: boolean;
};

export type ScheduleManyResult =
  | { ok: true; placements: PlacementSuccess[] }
  | {
      ok: false;
      message: string;
      /** One per request tried, in order. With `allOrNothing` the list ends at the first failure. */
      results: PlacementResult[];
      /** How many placements are now recorded in the view (0 with `allOrNothing`). */
      placed: number;
    };

/**
 * Places requests (typically the replicas of one service) one after another,
 * recording each in the view before the next is scheduled, so `spread` puts
 * replicas on different hosts and `binpack` fills one host before the next.
 */
export function scheduleMany(
  view: ClusterView,
  requests: readonly PlacementRequest[],
  options: ScheduleManyOptions = {},
): ScheduleManyResult {
  const results: PlacementResult[] = [];
  const placed: { hostId: string; request: PlacementRequest }[] = [];
  const failures: { index: number; failure: PlacementFailure }[] = [];

  for (const [index, request] of requests.entries()) {
    const result = schedule(view, request);
    results.push(result);
    if (result.ok) {
      view.place(result.hostId, request);
      placed.push({ hostId: result.hostId, request });
      continue;
    }
    failures.push({ index, failure: result });
    if (options.allOrNothing) {
      for (const { hostId, request: done } of placed.reverse()) view.release(hostId, done);
      return {
        ok: false,
        message: `request ${index + 1} of ${requests.length}: ${result.message}; nothing was placed`,
        results,
        placed: 0,
      };
    }
  }

  if (failures.length === 0) return { ok: true, placements: results as PlacementSuccess[] };
  const message = failures
    .map(({ index, failure }) => `request ${index + 1} of ${requests.length}: ${failure.message}`)
    .join("\n");
  return { ok: false, message, results, placed: placed.length };
}
