// What a container is made from, before it has an id, a name or a host: the
// part of the agent's container spec a person chooses. A deployment stores one
// as its spec and stamps out replicas from it.
import {
  type TMount,
  type TPortMapping,
  type TResources,
  type TRestartPolicy,
  ZContainerSpec,
  ZEnv,
  ZMount,
  ZNetworkName,
  ZPortMapping,
  ZResources,
  ZRestartPolicy,
} from "@fleet/shared/domain/container-spec";
import { parseImageRef, ZImageRef } from "@fleet/shared/image-ref";
import { type TLabels, ZLabels } from "@fleet/shared/label-selector";
import { z } from "zod";
import type { Prisma } from "../../db/client";
import {
  resourcesOfRow,
  restartPolicyOfRow,
  type TResourceColumns,
  type TRestartColumns,
} from "../../db/container-columns";

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
});

export interface TContainerTemplate {
  image: string;
  /** null: the image's default command. */
  command: string[] | null;
  env: Record<string, string>;
  ports: TPortMapping[];
  labels: TLabels;
  /** Requests are already defaulted to limits (see `resourcesWithDefaultRequests`). */
  resources: TResources;
  restartPolicy: TRestartPolicy;
  /** Named volumes, bind mounts (already checked against the allowed prefixes) and tmpfs mounts. */
  mounts: TMount[];
  /** User-defined networks on the host to join. */
  networks: string[];
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

/**
 * The container row's `spec` JSON: the parts without columns of their own.
 * The gateway rebuilds the agent's spec from it plus the columns.
 */
export function storedSpecOf(template: TContainerTemplate): Prisma.InputJsonObject {
  return {
    command: template.command,
    env: template.env,
    ports: template.ports.map((port) => ({ ...port })),
    labels: template.labels,
    mounts: template.mounts.map((mount) => ({ ...mount })),
    networks: [...template.networks],
  };
}

/** The container row columns that come from a template. */
export function containerColumnsOf(template: TContainerTemplate) {
  const { resources, restartPolicy } = template;
  return {
    image: template.image,
    // A reference with a digest runs exactly that digest (a pinned deployment's replicas).
    imageDigest: parseImageRef(template.image).digest,
    spec: storedSpecOf(template),
    cpuRequestMillis: resources.cpuRequestMillis,
    cpuLimitMillis: resources.cpuLimitMillis,
    memoryRequestBytes: BigInt(resources.memoryRequestBytes),
    memoryLimitBytes: resources.memoryLimitBytes === null ? null : BigInt(resources.memoryLimitBytes),
    pidsRequest: resources.pidsRequest,
    pidsLimit: resources.pidsLimit,
    restartPolicy: restartPolicy.name === "on-failure" ? ("on_failure" as const) : restartPolicy.name,
    restartMaxRetries: restartPolicy.maxRetries ?? null,
  };
}

const ZStoredSpec = z.object({
  command: z.array(z.string()).nullable().catch(null),
  env: z.record(z.string(), z.string()).catch({}),
  ports: z.array(ZPortMapping).catch([]),
  labels: z.record(z.string(), z.string()).catch({}),
  mounts: z.array(ZMount).catch([]),
  networks: z.array(z.string()).catch([]),
});

/** The `spec` JSON of a container row, read leniently (a bad part reads as empty). */
export function readStoredSpec(spec: unknown): z.infer<typeof ZStoredSpec> {
  const parsed = ZStoredSpec.safeParse(spec ?? {});
  return parsed.success
    ? parsed.data
    : { command: null, env: {}, ports: [], labels: {}, mounts: [], networks: [] };
}

/** A container row back into the template it was made from. */
export function templateOfRow(
  row: TResourceColumns & TRestartColumns & { image: string; spec: unknown },
): TContainerTemplate {
  return {
    image: row.image,
    ...readStoredSpec(row.spec),
    resources: resourcesOfRow(row),
    restartPolicy: restartPolicyOfRow(row),
  };
}
