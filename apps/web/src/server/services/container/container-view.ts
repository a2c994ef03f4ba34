// A container as the API shows it: where it runs and why, what it asked for,
// what it wants and what it is. Environment values stay out (they often hold
// secrets and every viewer may read this); their names are shown.
import {
  formatRestartPolicy,
  type TContainerHealth,
  type THealthCheck,
  type TMount,
  type TPortMapping,
} from "@fleet/shared/domain/container-spec";
import { ZPublishedPort } from "@fleet/shared/protocol/agent-to-server";
import { z } from "zod";
import type { Prisma } from "../../db/client";
import { containerSpecSelect, readContainerRow } from "../../db/container-row";

export const containerViewSelect = {
  id: true,
  name: true,
  deploymentId: true,
  replicaIndex: true,
  revision: true,
  hostId: true,
  ...containerSpecSelect,
  imageDigest: true,
  desiredState: true,
  actualState: true,
  exitCode: true,
  oomKilled: true,
  oomKillCount: true,
  restartCount: true,
  engineId: true,
  statusMessage: true,
  placementReason: true,
  strategy: true,
  constraints: true,
  requestedAt: true,
  scheduledAt: true,
  startedAt: true,
  runningReportedAt: true,
  finishedAt: true,
  startLatencyMs: true,
  createdAt: true,
  updatedAt: true,
  removedAt: true,
  publishedPorts: true,
  health: true,
  healthMessage: true,
  healthChangedAt: true,
  host: { select: { name: true, address: true, facts: true } },
  deployment: { select: { name: true } },
} satisfies Prisma.ContainerSelect;

export type TContainerRow = Prisma.ContainerGetPayload<{ select: typeof containerViewSelect }>;

export type TContainerDesiredState = TContainerRow["desiredState"];
export type TContainerActualState = TContainerRow["actualState"];

export interface TContainerResourcesView {
  cpuRequestMillis: number;
  cpuLimitMillis: number | null;
  memoryRequestBytes: number;
  memoryLimitBytes: number | null;
  pidsRequest: number;
  pidsLimit: number | null;
}

export interface TContainerView {
  id: string;
  name: string;
  image: string;
  imageDigest: string | null;
  /** Null while it waits for a host with room (after its host was lost). */
  hostId: string | null;
  hostName: string | null;
  deploymentId: string | null;
  deploymentName: string | null;
  replicaIndex: number | null;
  /** The deployment revision a replica was made from; null for a lone container. */
  revision: number | null;
  desiredState: TContainerDesiredState;
  actualState: TContainerActualState;
  command: string[] | null;
  envKeys: string[];
  ports: TPortMapping[];
  mounts: TMount[];
  networks: string[];
  published: TPublishedPortView[];
  labels: Record<string, string>;
  resources: TContainerResourcesView;
  /** Docker's spelling: `no`, `always`, `on-failure:3`. */
  restartPolicy: string;
  /** null: none. */
  healthCheck: THealthCheck | null;
  /** The check's verdict as the agent last reported it; null without a check or while not running. */
  health: TContainerHealth | null;
  /** The last failing check's output or error while it is not healthy. */
  healthMessage: string | null;
  /** When `health` last changed, as the central heard it. */
  healthChangedAt: Date | null;
  exitCode: number | null;
  oomKilled: boolean;
  oomKillCount: number;
  restartCount: number;
  engineId: string | null;
  statusMessage: string | null;
  placementReason: string;
  strategy: "binpack" | "spread";
  constraints: string;
  requestedAt: Date;
  scheduledAt: Date | null;
  startedAt: Date | null;
  runningReportedAt: Date | null;
  finishedAt: Date | null;
  startLatencyMs: number | null;
  createdAt: Date;
  updatedAt: Date;
  removedAt: Date | null;
}

export interface TPublishedPortView {
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
  address: string;
}

const ZStoredPublishedPorts = z.array(ZPublishedPort).catch([]);
const ZFactsHostname = z.object({ hostname: z.string().min(1) }).loose();
const UNSPECIFIED_IPS = new Set(["", "0.0.0.0", "::"]);

/** `ip:port`, with IPv6 addresses in brackets so the port stays readable. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Where a person reaches a published port: the IP the engine bound when it
 * is a specific one, else the address the host's agent connected from, else
 * the hostname it reported (which may or may not resolve for the reader).
 */
export function publishedPortsOf(row: Pick<TContainerRow, "publishedPorts" | "actualState" | "host">) {
  // Ports are only bound while the container runs; a stopped one's last report is history.
  if (row.actualState !== "running" || !row.host) return [];
  const host = row.host;
  const hostname = ZFactsHostname.safeParse(host.facts);
  const fallback = host.address ?? (hostname.success ? hostname.data.hostname : host.name);
  return ZStoredPublishedPorts.parse(row.publishedPorts).map(
    (port): TPublishedPortView => ({
      ...port,
      address: formatHostPort(UNSPECIFIED_IPS.has(port.hostIp) ? fallback : port.hostIp, port.hostPort),
    }),
  );
}

export function toContainerView(row: TContainerRow): TContainerView {
  // Lenient: rows written by older versions are shown with what still reads.
  const spec = readContainerRow(row);
  return {
    id: row.id,
    name: row.name,
    image: row.image,
    imageDigest: row.imageDigest,
    hostId: row.hostId,
    hostName: row.host?.name ?? null,
    deploymentId: row.deploymentId,
    deploymentName: row.deployment?.name ?? null,
    replicaIndex: row.replicaIndex,
    revision: row.revision,
    desiredState: row.desiredState,
    actualState: row.actualState,
    command: spec.command,
    envKeys: Object.keys(spec.env).sort(),
    ports: spec.ports,
    mounts: spec.mounts,
    networks: spec.networks,
    published: publishedPortsOf(row),
    labels: spec.labels,
    resources: spec.resources,
    restartPolicy: formatRestartPolicy(spec.restartPolicy),
    healthCheck: spec.healthCheck ?? null,
    health: row.health,
    healthMessage: row.healthMessage,
    healthChangedAt: row.healthChangedAt,
    exitCode: row.exitCode,
    oomKilled: row.oomKilled,
    oomKillCount: row.oomKillCount,
    restartCount: row.restartCount,
    engineId: row.engineId,
    statusMessage: row.statusMessage,
    placementReason: row.placementReason,
    strategy: row.strategy,
    constraints: row.constraints,
    requestedAt: row.requestedAt,
    scheduledAt: row.scheduledAt,
    startedAt: row.startedAt,
    runningReportedAt: row.runningReportedAt,
    finishedAt: row.finishedAt,
    startLatencyMs: row.startLatencyMs,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    removedAt: row.removedAt,
  };
}
