import {
  ZContainerHealth,
  ZHealthCheck,
  ZMount,
  ZPortMapping,
  ZProtocol,
} from "@fleet/shared/domain/container-spec";
import { ZContainerState, ZDesiredState } from "@fleet/shared/domain/container-state";
import { z } from "zod";

// The states are the protocol's own: what the agent reports is what the API shows.
export const ZContainerDesiredState = ZDesiredState;
export const ZContainerActualState = ZContainerState;

export const ZContainerResources = z.object({
  cpuRequestMillis: z.int().nonnegative(),
  cpuLimitMillis: z.int().nonnegative().nullable(),
  memoryRequestBytes: z.number().nonnegative(),
  memoryLimitBytes: z.number().nonnegative().nullable(),
  pidsRequest: z.int().nonnegative(),
  pidsLimit: z.int().nonnegative().nullable(),
});

/** A host port the engine bound for a running container, and where a person reaches it. */
export const ZPublishedPortView = z.object({
  containerPort: z.int(),
  protocol: ZProtocol,
  hostIp: z.string(),
  hostPort: z.int(),
  /** `ip:port` (IPv6 in brackets): the bound IP when specific, else the host's address, else its hostname. */
  address: z.string(),
});

export const ZContainer = z.object({
  id: z.string(),
  name: z.string(),
  image: z.string(),
  imageDigest: z.string().nullable(),
  /** Null while it waits for a host with room. */
  hostId: z.string().nullable(),
  hostName: z.string().nullable(),
  deploymentId: z.string().nullable(),
  deploymentName: z.string().nullable(),
  replicaIndex: z.int().nullable(),
  revision: z.int().nullable(),
  desiredState: ZContainerDesiredState,
  actualState: ZContainerActualState,
  command: z.array(z.string()).nullable(),
  /** Names of the environment variables; values are not shown. */
  envKeys: z.array(z.string()),
  ports: z.array(ZPortMapping),
  mounts: z.array(ZMount),
  networks: z.array(z.string()),
  /** Empty unless the agent reports the container running with ports bound. */
  published: z.array(ZPublishedPortView),
  labels: z.record(z.string(), z.string()),
  resources: ZContainerResources,
  restartPolicy: z.string(),
  /** null: none. Durations in milliseconds. */
  healthCheck: ZHealthCheck.nullable(),
  /** The check's verdict as the agent last reported it; null without a check or while not running. */
  health: ZContainerHealth.nullable(),
  /** The last failing check's output or error, while it is not healthy. */
  healthMessage: z.string().nullable(),
  /** When `health` last changed. */
  healthChangedAt: z.date().nullable(),
  exitCode: z.int().nullable(),
  oomKilled: z.boolean(),
  oomKillCount: z.int(),
  restartCount: z.int(),
  engineId: z.string().nullable(),
  statusMessage: z.string().nullable(),
  /** Why the scheduler chose the host, in words. */
  placementReason: z.string(),
  strategy: z.enum(["binpack", "spread"]),
  constraints: z.string(),
  requestedAt: z.date(),
  scheduledAt: z.date().nullable(),
  startedAt: z.date().nullable(),
  runningReportedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  startLatencyMs: z.int().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  removedAt: z.date().nullable(),
});

export const ZHostRejection = z.object({
  hostId: z.string(),
  hostName: z.string(),
  reasons: z.array(z.string()),
});

export const ZPlacement = z.object({
  hostId: z.string(),
  hostName: z.string(),
  /** The scheduler's reason for this host. */
  reason: z.string(),
  /** Every host ruled out, with each reason. */
  rejected: z.array(ZHostRejection),
});

/** A line of the container's history. */
export const ZContainerEvent = z.object({
  /** Decimal; later events have larger ids. */
  id: z.string(),
  ts: z.date(),
  kind: z.string(),
  severity: z.enum(["info", "warning", "error"]),
  hostId: z.string().nullable(),
  message: z.string(),
  data: z.unknown(),
});

export const ZContainerWithEvents = z.object({ container: ZContainer, events: z.array(ZContainerEvent) });
