import type { TResources } from "../domain/container-spec";
import type { ResourceAmounts } from "./types";

/**
 * What a container takes out of a host's allocatable, per resource: its
 * request, or, when the request is 0 (not given) and a limit is set, its limit.
 * As Kubernetes does, a limit without a request counts as the request: a
 * container that may use 2 cores must not land on a host with 0.1 free just
 * because nobody wrote a request down. With neither, it takes nothing.
 */
export function effectiveRequests(resources: TResources): ResourceAmounts {
  return {
    cpuMillis: requestOrLimit(resources.cpuRequestMillis, resources.cpuLimitMillis),
    memoryBytes: requestOrLimit(resources.memoryRequestBytes, resources.memoryLimitBytes),
    pids: requestOrLimit(resources.pidsRequest, resources.pidsLimit),
  };
}

function requestOrLimit(request: number, limit: number | null): number {
  return request > 0 ? request : (limit ?? 0);
}
