// Small valid examples of every domain object and frame, for tests on both
// ends of the link. Each takes shallow overrides; ids come from a counter so
// two calls never collide.
import type { TContainerSpec, TResources } from "../domain/container-spec";
import type { THostFacts, THostReserve } from "../domain/host";
import type { TContainerSample, THostSample } from "../domain/metrics";
import type {
  TAckFrame,
  TAgentFrame,
  TAgentFrameType,
  TContainerStatusFrame,
  TEventFrame,
  THeartbeatFrame,
  THelloFrame,
  TMetricsFrame,
  TOpFailureFrame,
  TOpProgressFrame,
  TOpSuccessFrame,
} from "./agent-to-server";
import type { TErrorFrame } from "./common";
import type { TOperationOf } from "./operations";
import type {
  TDesiredContainer,
  TDesiredFrame,
  TOpCancelFrame,
  TOpRequestFrame,
  TServerFrame,
  TServerFrameType,
  TUploadChunkFrame,
  TWelcomeFrame,
} from "./server-to-agent";
import { PROTOCOL_VERSION } from "./version";

let sequence = 0;
/** A fresh number per call, for ids and names that must not collide. */
export function nextSequence(): number {
  sequence += 1;
  return sequence;
}

const BASE_TIME = Date.UTC(2025, 0, 1);
const MIB = 1024 * 1024;

export function makeResources(overrides: Partial<TResources> = {}): TResources {
  return {
    cpuRequestMillis: 100,
    cpuLimitMillis: 500,
    memoryRequestBytes: 32 * MIB,
    memoryLimitBytes: 64 * MIB,
    pidsRequest: 10,
    pidsLimit: 100,
    ...overrides,
  };
}

export function makeContainerSpec(overrides: Partial<TContainerSpec> = {}): TContainerSpec {
  const n = nextSequence();
  return {
    id: `c-${n}`,
    name: `app-${n}`,
    image: "127.0.0.1:5000/fleet/busybox:1.36",
    command: ["sleep", "3600"],
    env: { MODE: "test" },
    ports: [],
    resources: makeResources(),
    restartPolicy: { name: "on-failure", maxRetries: 3 },
    labels: { app: "demo" },
    mounts: [],
    networks: [],
    healthCheck: null,
    ...overrides,
  };
}

export function makeHostFacts(overrides: Partial<THostFacts> = {}): THostFacts {
  return {
    hostname: "host-a",
    cpus: 4,
    memoryBytes: 8 * 1024 * MIB,
    kernel: "6.1.0-18-amd64",
    os: "Debian GNU/Linux 12 (bookworm)",
    arch: "x86_64",
    cgroupVersion: 2,
    engine: { name: "docker", version: "20.10.24", apiVersion: "1.41" },
    agentVersion: "0.1.0",
    labels: { zone: "a" },
    ...overrides,
  };
}

export function makeHostReserve(overrides: Partial<THostReserve> = {}): THostReserve {
  return { cpuMillis: 250, memoryBytes: 256 * MIB, ...overrides };
}

export function makeContainerSample(overrides: Partial<TContainerSample> = {}): TContainerSample {
  return {
    containerId: "c-1",
    ts: BASE_TIME,
    cpuCores: 0.25,
    cpuUsageNs: 1_500_000_000,
    cpuPeriods: 120,
    cpuThrottledPeriods: 3,
    cpuThrottledNs: 20_000_000,
    memoryUsageBytes: 20 * MIB,
    memoryWorkingSetBytes: 18 * MIB,
    memoryLimitBytes: 64 * MIB,
    memoryFailcnt: 0,
    oomKills: 0,
    pidsCurrent: 2,
    pidsLimit: 100,
    netRxBytes: 1024,
    netTxBytes: 2048,
    netRxPackets: 10,
    netTxPackets: 12,
    blkReadBytes: 4096,
    blkWriteBytes: 0,
    ...overrides,
  };
}

export function makeHostSample(overrides: Partial<THostSample> = {}): THostSample {
  return {
    ts: BASE_TIME,
    cpuCores: 1.5,
    cpuCount: 4,
    memoryTotalBytes: 8 * 1024 * MIB,
    memoryAvailableBytes: 6 * 1024 * MIB,
    memoryUsedBytes: 2 * 1024 * MIB,
    load1: 0.5,
    load5: 0.4,
    load15: 0.3,
    diskTotalBytes: 100 * 1024 * MIB,
    diskFreeBytes: 60 * 1024 * MIB,
    containers: 3,
    ...overrides,
  };
}

// ---- agent → server ---------------------------------------------------------

export function makeHello(overrides: Partial<THelloFrame> = {}): THelloFrame {
  return {
    type: "hello",
    protocolVersion: PROTOCOL_VERSION,
    auth: { kind: "join", joinToken: "join-token-abc" },
    name: "host-a",
    facts: makeHostFacts(),
    reserve: makeHostReserve(),
    agentVersion: "0.1.0",
    ...overrides,
  };
}

export function makeHeartbeat(overrides: Partial<THeartbeatFrame> = {}): THeartbeatFrame {
  return { type: "heartbeat", ts: BASE_TIME, containers: 3, ackedGeneration: 7, ...overrides };
}

export function makeAck(overrides: Partial<TAckFrame> = {}): TAckFrame {
  return { type: "ack", generation: 7, ...overrides };
}

export function makeContainerStatus(overrides: Partial<TContainerStatusFrame> = {}): TContainerStatusFrame {
  return {
    type: "container.status",
    containerId: "c-1",
    engineId: "a".repeat(64),
    state: "running",
    exitCode: null,
    oomKilled: false,
    restartCount: 0,
    startedAt: "2025-01-01T00:00:00.123456789Z",
    finishedAt: null,
    message: null,
    health: null,
    healthMessage: null,
    ts: BASE_TIME,
    ...overrides,
  };
}

export function makeMetrics(overrides: Partial<TMetricsFrame> = {}): TMetricsFrame {
  return {
    type: "metrics",
    batchId: `batch-${nextSequence()}`,
    containers: [makeContainerSample(), makeContainerSample({ containerId: "c-2" })],
    host: makeHostSample(),
    droppedSamples: 0,
    ...overrides,
  };
}

export function makeEvent(overrides: Partial<TEventFrame> = {}): TEventFrame {
  return {
    type: "event",
    ts: BASE_TIME,
    kind: "container.oom",
    containerId: "c-1",
    message: "container c-1 was killed for using more than its 64 MiB memory limit",
    data: { memoryLimitBytes: 64 * MIB, oomKills: 1, cgroup: "/docker/abc", restarted: true, note: null },
    ...overrides,
  };
}

export function makeOpProgress(overrides: Partial<TOpProgressFrame> = {}): TOpProgressFrame {
  return {
    type: "op.progress",
    id: "op-1",
    data: { kind: "log", stream: "stdout", line: "hello from the container", ts: BASE_TIME },
    ...overrides,
  };
}

export function makeOpResult(overrides: Partial<TOpSuccessFrame> = {}): TOpSuccessFrame {
  return {
    type: "op.result",
    id: "op-1",
    ok: true,
    kind: "logs",
    result: { lines: [{ stream: "stderr", line: "warning: low disk" }], truncated: false },
    ...overrides,
  } as TOpSuccessFrame;
}

export function makeOpFailure(overrides: Partial<TOpFailureFrame> = {}): TOpFailureFrame {
  return {
    type: "op.result",
    id: "op-1",
    ok: false,
    error: { code: "not_found", message: "no such image: 127.0.0.1:5000/missing:1" },
    ...overrides,
  };
}

export function makeErrorFrame(overrides: Partial<TErrorFrame> = {}): TErrorFrame {
  return {
    type: "error",
    code: "bad_frame",
    message: 'invalid "ack" frame: generation: expected int',
    ...overrides,
  };
}

// ---- server → agent ---------------------------------------------------------

export function makeWelcome(overrides: Partial<TWelcomeFrame> = {}): TWelcomeFrame {
  return {
    type: "welcome",
    protocolVersion: PROTOCOL_VERSION,
    hostId: "host_01",
    credential: "cred-secret-123",
    settings: { metricsIntervalMs: 5000, heartbeatIntervalMs: 10_000 },
    serverTime: BASE_TIME,
    ...overrides,
  };
}

/** A desired-set entry: a spec (fresh unless given) with its run state, `running` unless given. */
export function makeDesiredContainer(overrides: Partial<TDesiredContainer> = {}): TDesiredContainer {
  const { runState = "running", ...spec } = overrides;
  return { ...makeContainerSpec(spec), runState };
}

type TDesiredEntryOverride = TContainerSpec & { runState?: TDesiredContainer["runState"] };

/** Entries given as plain specs get `runState: "running"`, as the schema's default would. */
export function makeDesired(
  overrides: Partial<Omit<TDesiredFrame, "containers">> & { containers?: TDesiredEntryOverride[] } = {},
): TDesiredFrame {
  const { containers, ...rest } = overrides;
  const entries: TDesiredEntryOverride[] = containers ?? [
    makeContainerSpec(),
    makeContainerSpec({ ports: [{ containerPort: 80, protocol: "tcp" }] }),
    makeDesiredContainer({ runState: "stopped" }),
  ];
  return {
    type: "desired",
    generation: 7,
    containers: entries.map((entry) => ({ ...entry, runState: entry.runState ?? "running" })),
    bindMountPrefixes: [],
    ...rest,
  };
}

export function makeLogsOperation(overrides: Partial<TOperationOf<"logs">> = {}): TOperationOf<"logs"> {
  return {
    kind: "logs",
    containerId: "c-1",
    tail: 100,
    follow: false,
    stdout: true,
    stderr: true,
    ...overrides,
  };
}

export function makeOpRequest(overrides: Partial<TOpRequestFrame> = {}): TOpRequestFrame {
  return {
    type: "op.request",
    id: `op-${nextSequence()}`,
    timeoutMs: 30_000,
    op: makeLogsOperation(),
    ...overrides,
  };
}

export function makeOpCancel(overrides: Partial<TOpCancelFrame> = {}): TOpCancelFrame {
  return { type: "op.cancel", id: "op-1", ...overrides };
}

export function makeUploadChunk(overrides: Partial<TUploadChunkFrame> = {}): TUploadChunkFrame {
  return {
    type: "upload.chunk",
    uploadId: "up-1",
    seq: 0,
    data: "aGVsbG8gd29ybGQ=",
    final: true,
    ...overrides,
  };
}

/** One factory per frame type; `Record` makes the compiler insist every type has one. */
export const agentFrameFactories: Record<TAgentFrameType, () => TAgentFrame> = {
  hello: makeHello,
  heartbeat: makeHeartbeat,
  ack: makeAck,
  "container.status": makeContainerStatus,
  metrics: makeMetrics,
  event: makeEvent,
  "op.progress": makeOpProgress,
  "op.result": makeOpResult,
  error: makeErrorFrame,
};

export const serverFrameFactories: Record<TServerFrameType, () => TServerFrame> = {
  welcome: makeWelcome,
  desired: makeDesired,
  "op.request": makeOpRequest,
  "op.cancel": makeOpCancel,
  "upload.chunk": makeUploadChunk,
  error: makeErrorFrame,
};
