// Synthetic clusters and request streams for the scheduler benchmark. Seeded,
// so every run schedules the same hosts and requests.
import type { TPortMapping } from "@fleet/shared/domain/container-spec";
import { parseLabelSelector } from "@fleet/shared/label-selector";
import type { PlacementRequest, PlacementStrategy, SchedulerHost } from "@fleet/shared/scheduler/types";

const MIB = 1024 ** 2;
export const GIB = 1024 ** 3;

/** mulberry32: a small, fast, seeded generator; quality is plenty for picking workloads. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ZONES = ["a", "b", "c", "d"] as const;
const HOST_SHAPES = [
  { cpuMillis: 8000, memoryBytes: 32 * GIB },
  { cpuMillis: 16000, memoryBytes: 64 * GIB },
  { cpuMillis: 32000, memoryBytes: 128 * GIB },
] as const;

/**
 * A mixed fleet: three host sizes, four zones, a third with SSDs, and a few
 * hosts offline (1%) or draining (1%), as a real cluster has at any moment.
 */
export function makeMixedCluster(count: number, random: () => number): SchedulerHost[] {
  const hosts: SchedulerHost[] = [];
  for (let i = 0; i < count; i++) {
    const shape = HOST_SHAPES[i % HOST_SHAPES.length]!;
    const labels: Record<string, string> = { zone: ZONES[i % ZONES.length]! };
    if (random() < 1 / 3) labels.disk = "ssd";
    const roll = random();
    hosts.push({
      id: `host-${String(i).padStart(5, "0")}`,
      name: `node-${String(i).padStart(5, "0")}`,
      online: roll >= 0.01,
      draining: roll >= 0.01 && roll < 0.02,
      labels,
      allocatable: { cpuMillis: shape.cpuMillis, memoryBytes: shape.memoryBytes, pids: 32768 },
      allocated: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
      usedHostPorts: [],
    });
  }
  return hosts;
}

/** `count` hosts of 16 cores, 64 GiB and 32768 pids each, all online and unlabelled. */
export function makeIdenticalCluster(count: number): SchedulerHost[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `host-${String(i).padStart(5, "0")}`,
    name: `node-${String(i).padStart(5, "0")}`,
    online: true,
    draining: false,
    labels: {},
    allocatable: { cpuMillis: 16000, memoryBytes: 64 * GIB, pids: 32768 },
    allocated: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
    usedHostPorts: [],
  }));
}

const SELECTORS = [
  parseLabelSelector("zone=a"),
  parseLabelSelector("zone in (b,c)"),
  parseLabelSelector("disk=ssd"),
  parseLabelSelector("zone notin (d),disk"),
];

type Shape = { cpuMillis: number; memoryBytes: number; pids: number };
/** Request sizes with their share of the mix. */
const REQUEST_MIX: readonly [share: number, shape: Shape, limitOnly: boolean][] = [
  [0.45, { cpuMillis: 250, memoryBytes: 256 * MIB, pids: 64 }, false],
  [0.25, { cpuMillis: 1000, memoryBytes: 2 * GIB, pids: 256 }, false],
  [0.1, { cpuMillis: 4000, memoryBytes: 8 * GIB, pids: 1024 }, false],
  [0.1, { cpuMillis: 2000, memoryBytes: 1 * GIB, pids: 256 }, false],
  // Limits without requests: the scheduler reserves the limits.
  [0.1, { cpuMillis: 500, memoryBytes: 4 * GIB, pids: 128 }, true],
];

function pickShape(random: () => number): [Shape, boolean] {
  let roll = random();
  for (const [share, shape, limitOnly] of REQUEST_MIX) {
    if (roll < share) return [shape, limitOnly];
    roll -= share;
  }
  const last = REQUEST_MIX[REQUEST_MIX.length - 1]!;
  return [last[1], last[2]];
}

/**
 * The stream the throughput runs schedule: the size mix above, 20% with a
 * label constraint, 10% binding a host port, 30% `spread`, the rest `binpack`.
 */
export function makeMixedRequest(random: () => number): PlacementRequest {
  const [shape, limitOnly] = pickShape(random);
  const ports: TPortMapping[] = [];
  if (random() < 0.1) {
    const port = 20000 + Math.floor(random() * 2000);
    ports.push({ containerPort: 8080, hostPort: port, protocol: random() < 0.8 ? "tcp" : "udp" });
  }
  const strategy: PlacementStrategy = random() < 0.3 ? "spread" : "binpack";
  return {
    resources: limitOnly
      ? {
          cpuRequestMillis: 0,
          cpuLimitMillis: shape.cpuMillis,
          memoryRequestBytes: 0,
          memoryLimitBytes: shape.memoryBytes,
          pidsRequest: 0,
          pidsLimit: shape.pids,
        }
      : {
          cpuRequestMillis: shape.cpuMillis,
          cpuLimitMillis: shape.cpuMillis * 2,
          memoryRequestBytes: shape.memoryBytes,
          memoryLimitBytes: shape.memoryBytes,
          pidsRequest: shape.pids,
          pidsLimit: null,
        },
    ports,
    constraints: random() < 0.2 ? SELECTORS[Math.floor(random() * SELECTORS.length)]! : [],
    strategy,
  };
}

/**
 * The packing trace: cpu-heavy, memory-heavy and balanced containers in
 * random order, so a packer that watches only one resource strands the other.
 */
export function makePackingTrace(count: number, random: () => number): PlacementRequest[] {
  const shapes = [
    { cpuMillis: 4000, memoryBytes: 4 * GIB }, // cpu-heavy
    { cpuMillis: 500, memoryBytes: 12 * GIB }, // memory-heavy
    { cpuMillis: 1000, memoryBytes: 4 * GIB }, // balanced, at the hosts' 1 core : 4 GiB
    { cpuMillis: 250, memoryBytes: 512 * MIB }, // small
    { cpuMillis: 2000, memoryBytes: 6 * GIB },
    { cpuMillis: 3000, memoryBytes: 16 * GIB }, // large
  ];
  return Array.from({ length: count }, () => {
    const shape = shapes[Math.floor(random() * shapes.length)]!;
    return {
      resources: {
        cpuRequestMillis: shape.cpuMillis,
        cpuLimitMillis: null,
        memoryRequestBytes: shape.memoryBytes,
        memoryLimitBytes: null,
        pidsRequest: 16,
        pidsLimit: null,
      },
      ports: [],
      constraints: [],
      strategy: "binpack" as const,
    };
  });
}

/**
 * A second packing trace, with task sizes shaped like the Google cluster
 * trace of May 2011 (clusterdata-2011-2: 12,500 machines, 29 days), as
 * Reiss, Tumanov, Ganger, Katz and Kozuch describe it ("Heterogeneity and
 * dynamicity of clouds at scale: Google trace analysis", SoCC 2012). Sizes
 * there are normalised to the largest machine; the most common machine
 * (53% of them) has 0.5 of its CPU and 0.5 of its memory, which is what the
 * bench's identical hosts (16 cores, 64 GiB) stand for, so 1.0 is 32 cores
 * and 128 GiB here.
 *
 * What is taken from the paper: task requests are small and skewed (most
 * tasks ask for a percent or two of the largest machine, a thin tail asks
 * for tens of percents), and a task's memory is only loosely tied to its
 * CPU (memory per core varies by more than ten times across tasks). The
 * numbers below are an approximation of that shape, written from memory of
 * the paper's request distributions, not fitted to the trace: CPU requests
 * of 0.00625 / 0.0125 / 0.025 / 0.05 / 0.1 / 0.2 of the largest machine with
 * shares 30 / 30 / 20 / 12 / 6 / 2 %, memory the CPU request times a ratio
 * drawn log-uniformly from 1/4 to 4, at most 0.25 (half a host).
 */
export function makeClusterTraceSample(count: number, random: () => number): PlacementRequest[] {
  const cpuShares: readonly [share: number, cpu: number][] = [
    [0.3, 0.00625],
    [0.3, 0.0125],
    [0.2, 0.025],
    [0.12, 0.05],
    [0.06, 0.1],
    [0.02, 0.2],
  ];
  const largestCpuMillis = 32000;
  const largestMemoryMiB = 128 * 1024;
  return Array.from({ length: count }, () => {
    let roll = random();
    let cpu = cpuShares[cpuShares.length - 1]![1];
    for (const [share, value] of cpuShares) {
      if (roll < share) {
        cpu = value;
        break;
      }
      roll -= share;
    }
    const ratio = 2 ** (random() * 4 - 2);
    const memory = Math.min(0.25, cpu * ratio);
    return {
      resources: {
        cpuRequestMillis: Math.round(cpu * largestCpuMillis),
        cpuLimitMillis: null,
        memoryRequestBytes: Math.round(memory * largestMemoryMiB) * MIB,
        memoryLimitBytes: null,
        pidsRequest: 16,
        pidsLimit: null,
      },
      ports: [],
      constraints: [],
      strategy: "binpack" as const,
    };
  });
}
