// API objects as the CLI receives them, for unit tests of formatting and
// decisions; each fills in what the test does not care about.
import type {
  TContainer,
  TDeploymentDetail,
  TFleetSummary,
  THost,
  THostImage,
  TNetwork,
  TVolume,
} from "../api-types";

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
let sequence = 0;

function uuid(): string {
  sequence++;
  return `01a21f0d-8dca-74ab-a10b-${sequence.toString(16).padStart(12, "0")}`;
}

export function containerView(overrides: Partial<TContainer> = {}): TContainer {
  return {
    id: uuid(),
    name: `c-${sequence}`,
    image: "busybox:1.36",
    imageDigest: null,
    hostId: "host-1",
    hostName: "node-1",
    deploymentId: null,
    deploymentName: null,
    replicaIndex: null,
    revision: null,
    desiredState: "running",
    actualState: "running",
    command: ["sleep", "600"],
    envKeys: [],
    ports: [],
    published: [],
    mounts: [],
    networks: [],
    labels: {},
    resources: {
      cpuRequestMillis: 500,
      cpuLimitMillis: 500,
      memoryRequestBytes: 64 * 1024 * 1024,
      memoryLimitBytes: 64 * 1024 * 1024,
      pidsRequest: 0,
      pidsLimit: null,
    },
    restartPolicy: "no",
    healthCheck: null,
    health: null,
    healthMessage: null,
    healthChangedAt: null,
    exitCode: null,
    oomKilled: false,
    oomKillCount: 0,
    restartCount: 0,
    engineId: null,
    statusMessage: null,
    placementReason: "binpack: 1 of 1 hosts fit",
    strategy: "binpack",
    constraints: "",
    requestedAt: new Date(NOW - 60_000),
    scheduledAt: new Date(NOW - 60_000),
    startedAt: new Date(NOW - 50_000),
    runningReportedAt: new Date(NOW - 50_000),
    finishedAt: null,
    startLatencyMs: 900,
    createdAt: new Date(NOW - 60_000),
    updatedAt: new Date(NOW - 50_000),
    removedAt: null,
    ...overrides,
  };
}

export function hostView(overrides: Partial<THost> = {}): THost {
  const resources = { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, pids: 32_768 };
  return {
    id: uuid(),
    name: `node-${sequence}`,
    status: "online",
    draining: false,
    labels: {},
    facts: null,
    agentVersion: "0.1.0",
    capacity: resources,
    allocatable: resources,
    allocated: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
    containerCount: 0,
    desiredGeneration: 1,
    ackedGeneration: 1,
    lastSeenAt: new Date(NOW),
    connectedAt: new Date(NOW - 3_600_000),
    createdAt: new Date(NOW - 86_400_000),
    updatedAt: new Date(NOW),
    removedAt: null,
    ...overrides,
  };
}

export function imageView(overrides: Partial<THostImage> = {}): THostImage {
  return {
    hostId: "host-1",
    hostName: "node-1",
    id: `sha256:${"5f94f54e8e07".padEnd(64, "0")}`,
    tags: ["busybox:1.36"],
    digests: [],
    sizeBytes: 2 * 1024 * 1024,
    createdAt: new Date(NOW - 3 * 86_400_000),
    seenAt: new Date(NOW),
    ...overrides,
  };
}

type THostSummary = TFleetSummary["hosts"][number];

export function fleetSummary(hosts: Partial<THostSummary>[]): TFleetSummary {
  const full = hosts.map(
    (host, index): THostSummary => ({
      hostId: `host-${index}`,
      name: `node-${index}`,
      status: "online",
      draining: false,
      cpuAllocatableMillis: 4000,
      cpuAllocatedMillis: 1000,
      cpuUsedCores: 0.25,
      memoryAllocatableBytes: 8 * 1024 ** 3,
      memoryAllocatedBytes: 2 * 1024 ** 3,
      memoryUsedBytes: 1024 ** 3,
      containers: 4,
      containersRunning: 3,
      containersReporting: 3,
      cpuAllocatedRatio: 0.25,
      cpuUsedRatio: 0.0625,
      memoryAllocatedRatio: 0.25,
      memoryUsedRatio: 0.125,
      machine: null,
      ...host,
    }),
  );
  return {
    at: NOW,
    hosts: full,
    totals: {
      hosts: full.length,
      hostsOnline: full.filter((host) => host.status === "online").length,
      hostsDraining: full.filter((host) => host.status === "online" && host.draining).length,
      containers: full.reduce((sum, host) => sum + host.containers, 0),
      containersRunning: full.reduce((sum, host) => sum + host.containersRunning, 0),
      containersPerHost:
        full.length > 0 ? full.reduce((sum, host) => sum + host.containers, 0) / full.length : null,
      cpuAllocatableMillis: full.reduce((sum, host) => sum + host.cpuAllocatableMillis, 0),
      cpuAllocatedMillis: full.reduce((sum, host) => sum + host.cpuAllocatedMillis, 0),
      cpuUsedCores: full.reduce((sum, host) => sum + host.cpuUsedCores, 0),
      memoryAllocatableBytes: full.reduce((sum, host) => sum + host.memoryAllocatableBytes, 0),
      memoryAllocatedBytes: full.reduce((sum, host) => sum + host.memoryAllocatedBytes, 0),
      memoryUsedBytes: full.reduce((sum, host) => sum + host.memoryUsedBytes, 0),
      cpuAllocatedRatio: 0.25,
      cpuUsedRatio: 0.0625,
      memoryAllocatedRatio: 0.25,
      memoryUsedRatio: 0.125,
    },
  };
}

export function volumeView(overrides: Partial<TVolume> = {}): TVolume {
  return {
    id: uuid(),
    hostId: "host-1",
    hostName: "node-1",
    name: `vol-${sequence}`,
    driver: "local",
    sizeBytes: null,
    labels: {},
    createdAt: new Date(NOW - 3_600_000),
    seenAt: new Date(NOW),
    usedBy: [],
    ...overrides,
  };
}

export function networkView(overrides: Partial<TNetwork> = {}): TNetwork {
  return {
    id: uuid(),
    hostId: "host-1",
    hostName: "node-1",
    name: `net-${sequence}`,
    driver: "bridge",
    internal: false,
    subnet: "172.20.0.0/16",
    gateway: "172.20.0.1",
    createdAt: new Date(NOW - 3_600_000),
    seenAt: new Date(NOW),
    usedBy: [],
    ...overrides,
  };
}

export function deploymentDetail(
  overrides: Partial<TDeploymentDetail["deployment"]> = {},
  replicas: TContainer[] = [],
): TDeploymentDetail {
  return {
    deployment: {
      id: uuid(),
      name: "api",
      image: "registry.local/api:2",
      imageDigest: null,
      command: null,
      envKeys: [],
      ports: [],
      mounts: [],
      networks: [],
      labels: {},
      resources: containerView().resources,
      restartPolicy: "no",
      healthCheck: null,
      revision: 1,
      updatePolicy: {
        maxParallel: 1,
        minHealthyTimeMs: 10_000,
        healthyDeadlineMs: 300_000,
        progressDeadlineMs: 600_000,
        autoRevert: false,
        canary: 0,
        order: "stop-first",
      },
      updatedReplicas: 2,
      healthyReplicas: 2,
      rollout: null,
      replicas: 2,
      currentReplicas: 2,
      runningReplicas: 2,
      pendingPlacement: 0,
      strategy: "binpack",
      constraints: "",
      createdAt: new Date(NOW - 3_600_000),
      updatedAt: new Date(NOW),
      removedAt: null,
      ...overrides,
    },
    replicas,
    replicasTotal: replicas.length,
  };
}

export const TEST_NOW = NOW;
