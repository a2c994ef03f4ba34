/**
 * Scheduler benchmark: the pure scheduler plus the in-memory ClusterView the
 * central uses, no database. Two parts:
 *  1. throughput: placements per second on one core for a stream of mixed
 *     requests against 100, 1,000 and 5,000 simulated hosts, kept in a steady
 *     state (old placements are released as new ones arrive);
 *  2. packing: a mixed trace placed with `binpack` on identical hosts until all
 *     of it is placed, hosts used vs the lower bound ⌈Σ demand / host capacity⌉
 *     on the binding resource; then the same for a trace with task sizes
 *     shaped like the Google 2011 cluster trace (see `makeClusterTraceSample`).
 * Progress on stderr, one JSON object as the last line of stdout.
 */
import { ClusterView } from "@fleet/shared/scheduler/cluster-view";
import { effectiveRequests } from "@fleet/shared/scheduler/effective-requests";
import { schedule } from "@fleet/shared/scheduler/schedule";
import type { PlacementRequest, PlacementStrategy, SchedulerHost } from "@fleet/shared/scheduler/types";
import {
  GIB,
  makeClusterTraceSample,
  makeIdenticalCluster,
  makeMixedCluster,
  makeMixedRequest,
  makePackingTrace,
  seededRandom,
} from "./workload";

const SIZES = [100, 1000, 5000] as const;
const WARM_UP_MS = 1000;
const MEASURE_MS = 3000;
/** Placements kept running per host in the steady state: about half the mixed fleet's capacity. */
const LIVE_PER_HOST = 8;
const REQUEST_POOL = 20_000;
const TRACE_LENGTH = 5000;
/** The cluster trace's tasks are small: more of them make a comparable number of hosts. */
const CLUSTER_TRACE_LENGTH = 20_000;

function log(message: string): void {
  process.stderr.write(`[scheduler] ${message}\n`);
}

type StreamResult = {
  /** Per second of this process's cpu time: what one core dedicated to it does. */
  placementsPerCpuS: number;
  /** Per second of wall time: lower when other processes share the core. */
  placementsPerWallS: number;
  cpuShare: number;
  noFitShare: number;
  p50Us: number;
  p99Us: number;
  liveContainers: number;
};

function runStream(hostCount: number): StreamResult {
  const random = seededRandom(hostCount);
  const view = new ClusterView(makeMixedCluster(hostCount, random));
  // Requests are made up front so the timed loop measures scheduling, not the generator.
  const pool = Array.from({ length: REQUEST_POOL }, () => makeMixedRequest(random));
  const live: { hostId: string; request: PlacementRequest }[] = [];
  const target = hostCount * LIVE_PER_HOST;
  let next = 0;

  const step = (): boolean => {
    const request = pool[next]!;
    next = (next + 1) % pool.length;
    const result = schedule(view, request);
    if (result.ok) {
      view.place(result.hostId, request);
      live.push({ hostId: result.hostId, request });
    }
    if (live.length > target) {
      // Release a random running container (swap-remove) so hosts churn unevenly, as in life.
      const index = Math.floor(random() * live.length);
      const gone = live[index]!;
      live[index] = live[live.length - 1]!;
      live.pop();
      view.release(gone.hostId, gone.request);
    }
    return result.ok;
  };

  // Start from a cluster about half full, filled at random through one-host
  // schedule calls: tens of thousands of full passes would only slow the start.
  const hostIds = view.hosts().map((h) => h.id);
  for (let tries = 0; live.length < target && tries < target * 10; tries++) {
    const request = pool[tries % pool.length]!;
    const host = view.get(hostIds[Math.floor(random() * hostIds.length)]!)!;
    if (schedule([host], request).ok) {
      view.place(host.id, request);
      live.push({ hostId: host.id, request });
    }
  }
  const warmUpUntil = performance.now() + WARM_UP_MS;
  while (performance.now() < warmUpUntil) for (let i = 0; i < 64; i++) step();

  const latencies: number[] = [];
  let attempts = 0;
  let placements = 0;
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < MEASURE_MS) {
    for (let i = 0; i < 64; i++) {
      const before = performance.now();
      if (step()) placements++;
      const after = performance.now();
      latencies.push(after - before);
      attempts++;
      now = after;
    }
  }
  const seconds = (now - start) / 1000;
  const cpuUsed = process.cpuUsage(cpuAtStart);
  const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;

  for (const host of view.hosts()) {
    const { allocated, allocatable } = host;
    if (
      allocated.cpuMillis > allocatable.cpuMillis ||
      allocated.memoryBytes > allocatable.memoryBytes ||
      allocated.pids > allocatable.pids
    ) {
      throw new Error(`host ${host.name} is over-committed: the scheduler placed more than fits`);
    }
  }

  latencies.sort((a, b) => a - b);
  const quantile = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000;
  return {
    placementsPerCpuS: Math.round(placements / cpuSeconds),
    placementsPerWallS: Math.round(placements / seconds),
    cpuShare: Number((cpuSeconds / seconds).toFixed(2)),
    noFitShare: Number(((attempts - placements) / attempts).toFixed(4)),
    p50Us: Number(quantile(0.5).toFixed(1)),
    p99Us: Number(quantile(0.99).toFixed(1)),
    liveContainers: live.length,
  };
}

type ReasonCosts = {
  constrainedUs: number;
  constrainedReadingUs: number;
  rejected: number;
  noFitUs: number;
  readingReasonUs: number;
};

/**
 * What explaining costs, in cpu µs per call on an empty mixed cluster: a
 * request whose constraint rules out 75% of hosts, without and with reading
 * `rejected` (the sentences are built on that first read), a request that
 * fits nowhere (its message names 20 hosts and counts the rest), and a
 * plain request whose `reason` is read (as the central does for every placement).
 */
function measureReasonCosts(hostCount: number): ReasonCosts {
  const random = seededRandom(7);
  const view = new ClusterView(makeMixedCluster(hostCount, random));
  const constrained = makeMixedRequest(random);
  constrained.constraints = [{ key: "zone", op: "=", values: ["a"] }];
  const tooBig = makeMixedRequest(random);
  tooBig.resources = { ...tooBig.resources, memoryRequestBytes: 1024 * GIB, memoryLimitBytes: null };
  let rejected = 0;
  const cpuMicrosPerCall = (request: PlacementRequest, read: "nothing" | "rejected" | "reason"): number => {
    const rounds = 300;
    for (let i = 0; i < 50; i++) schedule(view, request);
    const start = process.cpuUsage();
    for (let i = 0; i < rounds; i++) {
      const result = schedule(view, request);
      if (read === "rejected") rejected = result.rejected.length;
      if (read === "reason" && result.ok && result.reason.length === 0)
        throw new Error("a placement without a reason");
    }
    const used = process.cpuUsage(start);
    return Number(((used.user + used.system) / rounds).toFixed(1));
  };
  return {
    constrainedUs: cpuMicrosPerCall(constrained, "nothing"),
    constrainedReadingUs: cpuMicrosPerCall(constrained, "rejected"),
    rejected,
    noFitUs: cpuMicrosPerCall(tooBig, "nothing"),
    // The central stores every placement's reason, whose "N of M hosts fit" takes a pass over all hosts.
    readingReasonUs: cpuMicrosPerCall(makeMixedRequest(random), "reason"),
  };
}

function packTrace(
  trace: readonly PlacementRequest[],
  hostCount: number,
  strategy: PlacementStrategy,
): { hostsUsed: number; cpuPct: number; memoryPct: number } {
  const view = new ClusterView(makeIdenticalCluster(hostCount));
  for (const [index, request] of trace.entries()) {
    const placed = schedule(view, { ...request, strategy });
    if (!placed.ok)
      throw new Error(`trace request ${index} did not fit on ${hostCount} hosts: ${placed.message}`);
    view.place(placed.hostId, request);
  }
  const used = view.hosts().filter((h) => h.allocated.cpuMillis > 0 || h.allocated.memoryBytes > 0);
  // How full the used hosts are, per resource: what is left over is what the packing stranded.
  const percentOf = (pick: (amounts: SchedulerHost["allocated"]) => number) =>
    Number(
      (
        (100 * used.reduce((sum, h) => sum + pick(h.allocated), 0)) /
        used.reduce((sum, h) => sum + pick(h.allocatable), 0)
      ).toFixed(1),
    );
  return {
    hostsUsed: used.length,
    cpuPct: percentOf((a) => a.cpuMillis),
    memoryPct: percentOf((a) => a.memoryBytes),
  };
}

type PackingFigures = {
  containers: number;
  hostsUsed: number;
  lowerBound: number;
  overheadPct: number;
  /** How full the used hosts are, per resource. */
  cpuPct: number;
  memoryPct: number;
  bindingResource: string;
  pool: number;
  largestFirstHostsUsed?: number;
  spreadHostsUsed?: number;
};

/**
 * Packs a trace with binpack on identical hosts (twice the lower bound of
 * them), in arrival order: hosts used against ⌈Σ demand / host capacity⌉ on
 * the binding resource. With `compare`, also largest first (as an offline
 * packer would order them: what arrival order costs) and with spread.
 */
function measurePacking(label: string, trace: readonly PlacementRequest[], compare: boolean): PackingFigures {
  const hostCapacity = makeIdenticalCluster(1)[0]!.allocatable;
  const demand = { cpuMillis: 0, memoryBytes: 0, pids: 0 };
  for (const request of trace) {
    const take = effectiveRequests(request.resources);
    demand.cpuMillis += take.cpuMillis;
    demand.memoryBytes += take.memoryBytes;
    demand.pids += take.pids;
  }
  const bounds = {
    cpu: Math.ceil(demand.cpuMillis / hostCapacity.cpuMillis),
    memory: Math.ceil(demand.memoryBytes / hostCapacity.memoryBytes),
    pids: Math.ceil(demand.pids / hostCapacity.pids),
  };
  const lowerBound = Math.max(bounds.cpu, bounds.memory, bounds.pids);
  const bindingResource = (Object.keys(bounds) as (keyof typeof bounds)[]).find(
    (k) => bounds[k] === lowerBound,
  )!;
  const pool = lowerBound * 2;
  log(
    `packing, ${label}: ${trace.length} containers (${(demand.cpuMillis / 1000).toFixed(0)} cores, ${(demand.memoryBytes / GIB).toFixed(0)} GiB) ` +
      `on up to ${pool} hosts of 16 cores / 64 GiB; lower bound ${lowerBound} hosts (${bindingResource})`,
  );
  const binpack = packTrace(trace, pool, "binpack");
  const overheadPct = Number(((binpack.hostsUsed / lowerBound - 1) * 100).toFixed(1));
  log(
    `  binpack used ${binpack.hostsUsed} hosts (${overheadPct}% over the bound), ` +
      `${binpack.cpuPct}% of their cpu and ${binpack.memoryPct}% of their memory allocated`,
  );
  const figures: PackingFigures = {
    containers: trace.length,
    hostsUsed: binpack.hostsUsed,
    lowerBound,
    overheadPct,
    cpuPct: binpack.cpuPct,
    memoryPct: binpack.memoryPct,
    bindingResource,
    pool,
  };
  if (!compare) return figures;
  const size = (r: PlacementRequest) => {
    const take = effectiveRequests(r.resources);
    return Math.max(take.cpuMillis / hostCapacity.cpuMillis, take.memoryBytes / hostCapacity.memoryBytes);
  };
  const largestFirst = [...trace].sort((a, b) => size(b) - size(a));
  figures.largestFirstHostsUsed = packTrace(largestFirst, pool, "binpack").hostsUsed;
  log(`  binpack, largest first, used ${figures.largestFirstHostsUsed} hosts`);
  figures.spreadHostsUsed = packTrace(trace, pool, "spread").hostsUsed;
  log(`  spread used ${figures.spreadHostsUsed} hosts`);
  return figures;
}

function main(): void {
  const perCpuS: Record<string, number> = {};
  const perWallS: Record<string, number> = {};
  const cpuShare: Record<string, number> = {};
  const noFitShare: Record<string, number> = {};
  const p50Us: Record<string, number> = {};
  const p99Us: Record<string, number> = {};
  for (const size of SIZES) {
    log(`throughput: ${size} hosts, ${WARM_UP_MS} ms warm-up, ${MEASURE_MS} ms measured`);
    const result = runStream(size);
    log(
      `  ${result.placementsPerCpuS} placements per cpu-second (${result.placementsPerWallS} per wall-second, ` +
        `this process had ${Math.round(result.cpuShare * 100)}% of a core), ${(result.noFitShare * 100).toFixed(1)}% no fit, ` +
        `wall p50 ${result.p50Us} µs, p99 ${result.p99Us} µs, ${result.liveContainers} containers running`,
    );
    perCpuS[size] = result.placementsPerCpuS;
    perWallS[size] = result.placementsPerWallS;
    cpuShare[size] = result.cpuShare;
    noFitShare[size] = result.noFitShare;
    p50Us[size] = result.p50Us;
    p99Us[size] = result.p99Us;
  }

  const reasons = measureReasonCosts(5000);
  log(
    `explaining at 5000 hosts (cpu µs per call): constrained ${reasons.constrainedUs}, reading all ` +
      `${reasons.rejected} rejections ${reasons.constrainedReadingUs}; no host fits ${reasons.noFitUs}; ` +
      `reading a placement's reason ${reasons.readingReasonUs}`,
  );

  const synthetic = measurePacking("synthetic trace", makePackingTrace(TRACE_LENGTH, seededRandom(42)), true);
  const clusterTrace = measurePacking(
    "Google 2011-shaped trace",
    makeClusterTraceSample(CLUSTER_TRACE_LENGTH, seededRandom(2011)),
    false,
  );

  const summary = {
    bench: "scheduler",
    placements_per_s: perCpuS,
    binpack_hosts_used: synthetic.hostsUsed,
    lower_bound_hosts: synthetic.lowerBound,
    binpack_overhead_pct: synthetic.overheadPct,
    binpack_used_hosts_cpu_pct: synthetic.cpuPct,
    binpack_used_hosts_memory_pct: synthetic.memoryPct,
    placements_per_s_measure: "per second of this process's cpu time, i.e. on one dedicated core",
    placements_per_wall_s: perWallS,
    cpu_share_of_core: cpuShare,
    no_fit_share: noFitShare,
    wall_p50_us: p50Us,
    wall_p99_us: p99Us,
    cpu_us_per_schedule_5000_constrained: reasons.constrainedUs,
    cpu_us_per_schedule_5000_constrained_reading_reasons: reasons.constrainedReadingUs,
    rejected_hosts_per_schedule_5000_constrained: reasons.rejected,
    cpu_us_per_no_fit_5000: reasons.noFitUs,
    cpu_us_per_schedule_5000_reading_reason: reasons.readingReasonUs,
    trace_containers: synthetic.containers,
    trace_binding_resource: synthetic.bindingResource,
    binpack_largest_first_hosts_used: synthetic.largestFirstHostsUsed,
    spread_hosts_used: synthetic.spreadHostsUsed,
    trace_host_pool: synthetic.pool,
    cluster_trace: {
      based_on: "Google cluster trace 2011 task sizes (Reiss et al., SoCC 2012), approximated",
      containers: clusterTrace.containers,
      binpack_hosts_used: clusterTrace.hostsUsed,
      lower_bound_hosts: clusterTrace.lowerBound,
      binpack_overhead_pct: clusterTrace.overheadPct,
      binpack_used_hosts_cpu_pct: clusterTrace.cpuPct,
      binpack_used_hosts_memory_pct: clusterTrace.memoryPct,
      binding_resource: clusterTrace.bindingResource,
    },
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main();
