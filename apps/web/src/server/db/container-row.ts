// A container row keeps its resources and restart policy in flat columns (the
// scheduler and the host's allocated sums work on them); these read them back
// as the shared domain's shapes, for everyone who turns a row into a spec.
import type { TResources, TRestartPolicy } from "@fleet/shared/domain/container-spec";

export interface TResourceColumns {
  cpuRequestMillis: number;
  cpuLimitMillis: number | null;
  memoryRequestBytes: bigint;
  memoryLimitBytes: bigint | null;
  pidsRequest: number;
  pidsLimit: number | null;
}

export interface TRestartColumns {
  restartPolicy: "no" | "on_failure" | "always";
  restartMaxRetries: number | null;
}

export function resourcesOfRow(row: TResourceColumns): TResources {
  return {
    cpuRequestMillis: row.cpuRequestMillis,
    cpuLimitMillis: row.cpuLimitMillis,
    memoryRequestBytes: Number(row.memoryRequestBytes),
    memoryLimitBytes: row.memoryLimitBytes === null ? null : Number(row.memoryLimitBytes),
    pidsRequest: row.pidsRequest,
    pidsLimit: row.pidsLimit,
  };
}

export function restartPolicyOfRow(row: TRestartColumns): TRestartPolicy {
  return row.restartPolicy === "on_failure"
    ? { name: "on-failure", ...(row.restartMaxRetries === null ? {} : { maxRetries: row.restartMaxRetries }) }
    : { name: row.restartPolicy };
}
