// Small factories for the metrics tests: hosts and containers as the rest of
// the central would have stored them, and a metrics env with short durations.

import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { TMetricsFrame } from "@fleet/shared/protocol/agent-to-server";
import { makeContainerSample, makeHostSample, makeMetrics } from "@fleet/shared/protocol/test-factories";
import type { PrismaClient } from "../../../db/client";
import type { MetricsEnv } from "../metrics-options";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
let sequence = 0;

export function metricsEnv(overrides: Partial<MetricsEnv> = {}): MetricsEnv {
  return {
    FLEET_METRICS_INTERVAL: 5000,
    FLEET_RETENTION_RAW: 24 * 60 * 60_000,
    FLEET_RETENTION_MINUTE: 7 * 24 * 60 * 60_000,
    FLEET_RETENTION_HOUR: 90 * 24 * 60 * 60_000,
    ...overrides,
  };
}

export interface HostFixture {
  name?: string;
  status?: "online" | "offline";
  cpuAllocatableMillis?: number;
  cpuAllocatedMillis?: number;
  memoryAllocatableBytes?: bigint;
  memoryAllocatedBytes?: bigint;
}

export async function createHost(db: PrismaClient, fixture: HostFixture = {}): Promise<string> {
  sequence++;
  const host = await db.host.create({
    data: {
      name: fixture.name ?? `host-${sequence}-${Math.random().toString(36).slice(2, 8)}`,
      status: fixture.status ?? "online",
      cpuCapacityMillis: 4000,
      memoryCapacityBytes: BigInt(8 * GIB),
      cpuAllocatableMillis: fixture.cpuAllocatableMillis ?? 3750,
      memoryAllocatableBytes: fixture.memoryAllocatableBytes ?? BigInt(7 * GIB),
      cpuAllocatedMillis: fixture.cpuAllocatedMillis ?? 0,
      memoryAllocatedBytes: fixture.memoryAllocatedBytes ?? 0n,
    },
    select: { id: true },
  });
  return host.id;
}

export async function createContainer(
  db: PrismaClient,
  hostId: string | null,
  fixture: { actualState?: "running" | "exited" | "pending"; removedAt?: Date } = {},
): Promise<string> {
  sequence++;
  const container = await db.container.create({
    data: {
      name: `container-${sequence}-${Math.random().toString(36).slice(2, 8)}`,
      hostId,
      image: "busybox:latest",
      spec: {},
      cpuRequestMillis: 100,
      memoryRequestBytes: BigInt(64 * MIB),
      pidsRequest: 10,
      actualState: fixture.actualState ?? "running",
      removedAt: fixture.removedAt ?? null,
    },
    select: { id: true },
  });
  return container.id;
}

export function containerSample(
  containerId: string,
  ts: number,
  overrides: Partial<TContainerSample> = {},
): TContainerSample {
  return makeContainerSample({ containerId, ts, ...overrides });
}

export function hostSample(ts: number, overrides: Partial<THostSample> = {}): THostSample {
  return makeHostSample({ ts, ...overrides });
}

export function metricsFrame(
  containers: TContainerSample[],
  host: THostSample | null,
  overrides: Partial<TMetricsFrame> = {},
): TMetricsFrame {
  return makeMetrics({ containers, host, droppedSamples: 0, ...overrides });
}
