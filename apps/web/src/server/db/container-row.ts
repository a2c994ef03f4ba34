// The container row, read and written in one place. A container's spec is kept
// in two halves: flat columns for the image, resources and restart policy (the
// scheduler and the hosts' allocated sums work on them) and the `spec` JSON for
// the rest. Rows outlive the version that wrote them, so the defaults for what
// an older row lacks are decided here once, for every reader.
//
// Two readings, for two kinds of reader:
// - `readContainerRow` is lenient: a part of the JSON that no longer parses
//   reads as its empty value, so views, placement and rescheduling keep
//   working on rows written by older versions.
// - `containerSpecFromRow` is strict: the whole spec must pass the protocol's
//   schema or the row is reported instead, so the gateway never sends an
//   agent a spec the agent would refuse.
import {
  type TContainerSpec,
  type THealthCheck,
  type TMount,
  type TPortMapping,
  type TResources,
  type TRestartPolicy,
  ZContainerSpec,
  ZHealthCheck,
  ZMount,
  ZPortMapping,
} from "@fleet/shared/domain/container-spec";
import { parseImageRef } from "@fleet/shared/image-ref";
import { describeIssues } from "@fleet/shared/protocol/frame";
import { z } from "zod";
import type { Prisma } from "./client";

const containerResourcesSelect = {
  cpuRequestMillis: true,
  cpuLimitMillis: true,
  memoryRequestBytes: true,
  memoryLimitBytes: true,
  pidsRequest: true,
  pidsLimit: true,
} satisfies Prisma.ContainerSelect;

/** Every column a container's spec is read from, apart from its identity (`id`, `name`). */
export const containerSpecSelect = {
  image: true,
  spec: true,
  ...containerResourcesSelect,
  restartPolicy: true,
  restartMaxRetries: true,
} satisfies Prisma.ContainerSelect;

export type TResourceColumns = Prisma.ContainerGetPayload<{ select: typeof containerResourcesSelect }>;
export type TContainerSpecRow = Prisma.ContainerGetPayload<{ select: typeof containerSpecSelect }>;
type TRestartColumns = Pick<TContainerSpecRow, "restartPolicy" | "restartMaxRetries">;

/** The parts of a spec the `spec` JSON holds. */
export interface TStoredSpec {
  /** null: the image's default command. */
  command: string[] | null;
  env: Record<string, string>;
  ports: TPortMapping[];
  labels: Record<string, string>;
  mounts: TMount[];
  networks: string[];
  /** null or absent: no health check. */
  healthCheck?: THealthCheck | null;
}

/** A spec without identity: what a row holds for a container (and a deployment for its replicas). */
export interface TContainerSpecParts extends TStoredSpec {
  image: string;
  resources: TResources;
  restartPolicy: TRestartPolicy;
}

/** What a part missing from the JSON means: rows written before the part existed have none of it. */
function emptyStoredSpec(): TStoredSpec {
  return { command: null, env: {}, ports: [], labels: {}, mounts: [], networks: [], healthCheck: null };
}

/** JSON that is not an object (null, an array) holds no parts. */
function storedObjectOf(spec: unknown): object {
  return spec !== null && typeof spec === "object" && !Array.isArray(spec) ? spec : {};
}

const ZLenientStoredSpec = z.object({
  command: z
    .array(z.string())
    .nullable()
    .catch(() => emptyStoredSpec().command),
  env: z.record(z.string(), z.string()).catch(() => emptyStoredSpec().env),
  ports: z.array(ZPortMapping).catch(() => emptyStoredSpec().ports),
  labels: z.record(z.string(), z.string()).catch(() => emptyStoredSpec().labels),
  mounts: z.array(ZMount).catch(() => emptyStoredSpec().mounts),
  networks: z.array(z.string()).catch(() => emptyStoredSpec().networks),
  healthCheck: ZHealthCheck.nullable().catch(null),
});

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

function restartPolicyOfRow(row: TRestartColumns): TRestartPolicy {
  return row.restartPolicy === "on_failure"
    ? { name: "on-failure", ...(row.restartMaxRetries === null ? {} : { maxRetries: row.restartMaxRetries }) }
    : { name: row.restartPolicy };
}

/** The `spec` JSON of a container row, read leniently. */
export function readStoredSpec(spec: unknown): TStoredSpec {
  return ZLenientStoredSpec.parse(storedObjectOf(spec));
}

/** A container row back into the spec it was made from, read leniently. */
export function readContainerRow(row: TContainerSpecRow): TContainerSpecParts {
  return {
    image: row.image,
    ...readStoredSpec(row.spec),
    resources: resourcesOfRow(row),
    restartPolicy: restartPolicyOfRow(row),
  };
}

export type TSpecFromRow = { ok: true; spec: TContainerSpec } | { ok: false; error: string };

/**
 * The spec the agent runs, read strictly: the columns are the truth for
 * identity, image, resources and restart policy (the scheduler placed by
 * them), the JSON for the rest.
 */
export function containerSpecFromRow(row: TContainerSpecRow & { id: string; name: string }): TSpecFromRow {
  const parsed = ZContainerSpec.safeParse({
    ...emptyStoredSpec(),
    ...storedObjectOf(row.spec),
    id: row.id,
    name: row.name,
    image: row.image,
    resources: resourcesOfRow(row),
    restartPolicy: restartPolicyOfRow(row),
  });
  return parsed.success
    ? { ok: true, spec: parsed.data }
    : { ok: false, error: describeIssues(parsed.error.issues) };
}

/** The row's `spec` JSON: the parts without columns of their own. */
export function storedSpecJson(stored: TStoredSpec): Prisma.InputJsonObject {
  return {
    command: stored.command,
    env: stored.env,
    ports: stored.ports.map((port) => ({ ...port })),
    labels: stored.labels,
    mounts: stored.mounts.map((mount) => ({ ...mount })),
    networks: [...stored.networks],
    healthCheck: stored.healthCheck ? { ...stored.healthCheck, test: { ...stored.healthCheck.test } } : null,
  };
}

/** The columns of a container row that hold its spec. */
export function containerColumnsOf(parts: TContainerSpecParts) {
  const { resources, restartPolicy } = parts;
  return {
    image: parts.image,
    // A reference with a digest runs exactly that digest (a pinned deployment's replicas).
    imageDigest: parseImageRef(parts.image).digest,
    spec: storedSpecJson(parts),
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
