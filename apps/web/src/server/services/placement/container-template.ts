// What a container is made from, before it has an id, a name or a host: the
// part of the agent's container spec a person chooses. A deployment stores one
// as its spec and stamps out replicas from it.
import {
  type TMount,
  type TResources,
  ZContainerSpec,
  ZEnv,
  ZHealthCheck,
  ZMount,
  ZNetworkName,
  ZPortMapping,
  ZResources,
  ZRestartPolicy,
} from "@fleet/shared/domain/container-spec";
import { ZImageRef } from "@fleet/shared/image-ref";
import { ZLabels } from "@fleet/shared/label-selector";
import { z } from "zod";
import type { TContainerSpecParts } from "../../db/container-row";

export const ZContainerTemplate = z.object({
  image: ZImageRef,
  command: z.array(z.string()).nullable(),
  env: ZEnv,
  ports: z.array(ZPortMapping),
  labels: ZLabels,
  resources: ZResources,
  restartPolicy: ZRestartPolicy,
  // Deployments stored before mounts existed have neither field.
  mounts: z.array(ZMount).default([]),
  networks: z.array(ZNetworkName).default([]),
  // Deployments stored before health checks existed have none.
  healthCheck: ZHealthCheck.nullable().default(null),
});

/**
 * The same shape as the parts a container row holds (`TContainerSpecParts`),
 * so a row reads back as the template it was made from; a template is what a
 * person chose, before any row exists.
 */
export interface TContainerTemplate extends TContainerSpecParts {
  /** Requests are already defaulted to limits (see `resourcesWithDefaultRequests`). */
  resources: TResources;
  /** Named volumes, bind mounts (already checked against the allowed prefixes) and tmpfs mounts. */
  mounts: TMount[];
}

// Any valid id and name: the template is checked as the whole spec the agent
// will receive, so every rule of ZContainerSpec (reserved labels, port
// clashes, request ≤ limit) applies here once, not again per replica.
const PLACEHOLDER_IDENTITY = { id: "template", name: "template" } as const;

/** Each problem with the template as `{ path, message }`, paths as in the template; empty when valid. */
export function templateProblems(template: TContainerTemplate): { path: PropertyKey[]; message: string }[] {
  const parsed = ZContainerSpec.safeParse({ ...template, ...PLACEHOLDER_IDENTITY });
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({ path: [...issue.path], message: issue.message }));
}

/**
 * As Kubernetes does, a resource with a limit and no request requests its
 * limit: the scheduler then reserves what the cgroup will allow, which is
 * what keeps a host from being promised more than it has.
 */
export function resourcesWithDefaultRequests(given: {
  cpuLimitMillis: number | null;
  memoryLimitBytes: number | null;
  pidsLimit: number | null;
  cpuRequestMillis?: number | undefined;
  memoryRequestBytes?: number | undefined;
  pidsRequest?: number | undefined;
}): TResources {
  return {
    cpuLimitMillis: given.cpuLimitMillis,
    memoryLimitBytes: given.memoryLimitBytes,
    pidsLimit: given.pidsLimit,
    cpuRequestMillis: given.cpuRequestMillis ?? given.cpuLimitMillis ?? 0,
    memoryRequestBytes: given.memoryRequestBytes ?? given.memoryLimitBytes ?? 0,
    pidsRequest: given.pidsRequest ?? given.pidsLimit ?? 0,
  };
}
