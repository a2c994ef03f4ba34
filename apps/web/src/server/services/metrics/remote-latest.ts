// The latest samples of hosts whose agents are connected to another central
// replica. Each replica keeps the newest sample of every container and host
// in memory (latest-samples.ts) from the frames its own agents send; for the
// others it reads the rows they wrote. Every live-publish interval, while
// some hosts are held elsewhere, it reads the newest row per container and
// per host written since its previous read (a window of the previous read's
// time minus two metrics intervals, which covers the write queue's delay and
// an agent's send period) and records those that are newer than what it
// holds. `metrics.live`, the latest values and the fleet summary then show
// every host on every replica, a second or so behind the replica holding it.
//
// The queries use the sample tables' (host_id, ts) keys: one range per
// remote host, in the day's partition.
//
// May import: db (the Prisma client), the metrics service's own modules,
// @fleet/shared types.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { PrismaClient } from "../../db/client";
import type { LatestSamples } from "./latest-samples";
import type { MetricsLogger } from "./metrics-options";

export interface RemoteLatestOptions {
  db: Pick<PrismaClient, "$queryRaw">;
  latest: LatestSamples;
  /** This replica's id: hosts whose row names it are held here. */
  replicaId: string;
  /** The hosts with a live connection on this replica (their samples arrive as frames). */
  localHostIds(): Iterable<string>;
  /** How often to read (the live-publish interval). */
  intervalMs: number;
  /** The agents' sampling interval (FLEET_METRICS_INTERVAL). */
  metricsIntervalMs: number;
  /** How far back the first read looks (the latest samples' staleness limit). */
  firstWindowMs: number;
  now(): number;
  /** Samples were recorded: publish them with the next live message. */
  changed(): void;
  log: MetricsLogger;
}

export interface RemoteRefreshReport {
  remoteHosts: number;
  containers: number;
  hosts: number;
}

interface ContainerSampleRow {
  container_id: string;
  host_id: string;
  ts: Date;
  cpu_cores: number;
  cpu_throttled_periods: bigint;
  cpu_throttled_ns: bigint;
  memory_usage_bytes: bigint;
  memory_working_set_bytes: bigint;
  memory_limit_bytes: bigint | null;
  memory_failcnt: bigint;
  oom_kills: number;
  pids_current: number;
  pids_limit: number | null;
  net_rx_bytes: bigint;
  net_tx_bytes: bigint;
  net_rx_packets: bigint;
  net_tx_packets: bigint;
  blk_read_bytes: bigint;
  blk_write_bytes: bigint;
}

interface HostSampleRow {
  host_id: string;
  ts: Date;
  cpu_cores: number;
  cpu_count: number;
  memory_total_bytes: bigint;
  memory_available_bytes: bigint;
  memory_used_bytes: bigint;
  load1: number;
  load5: number;
  load15: number;
  disk_total_bytes: bigint;
  disk_free_bytes: bigint;
  containers: number;
}

function containerSampleOf(row: ContainerSampleRow): TContainerSample {
  return {
    containerId: row.container_id,
    ts: row.ts.getTime(),
    cpuCores: row.cpu_cores,
    // Not stored: the rows keep what the views and rollups use.
    cpuUsageNs: 0,
    cpuPeriods: 0,
    cpuThrottledPeriods: Number(row.cpu_throttled_periods),
    cpuThrottledNs: Number(row.cpu_throttled_ns),
    memoryUsageBytes: Number(row.memory_usage_bytes),
    memoryWorkingSetBytes: Number(row.memory_working_set_bytes),
    memoryLimitBytes: row.memory_limit_bytes === null ? null : Number(row.memory_limit_bytes),
    memoryFailcnt: Number(row.memory_failcnt),
    oomKills: row.oom_kills,
    pidsCurrent: row.pids_current,
    pidsLimit: row.pids_limit,
    netRxBytes: Number(row.net_rx_bytes),
    netTxBytes: Number(row.net_tx_bytes),
    netRxPackets: Number(row.net_rx_packets),
    netTxPackets: Number(row.net_tx_packets),
    blkReadBytes: Number(row.blk_read_bytes),
    blkWriteBytes: Number(row.blk_write_bytes),
  };
}

function hostSampleOf(row: HostSampleRow): THostSample {
  return {
    ts: row.ts.getTime(),
    cpuCores: row.cpu_cores,
    cpuCount: row.cpu_count,
    memoryTotalBytes: Number(row.memory_total_bytes),
    memoryAvailableBytes: Number(row.memory_available_bytes),
    memoryUsedBytes: Number(row.memory_used_bytes),
    load1: row.load1,
    load5: row.load5,
    load15: row.load15,
    diskTotalBytes: Number(row.disk_total_bytes),
    diskFreeBytes: Number(row.disk_free_bytes),
    containers: row.containers,
  };
}

export class RemoteLatest {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<RemoteRefreshReport> | null = null;
  /** When the previous read started (null: none yet, or no remote hosts then). */
  private lastReadAt: number | null = null;
  private failing = false;
  private stopped = true;

  constructor(private readonly options: RemoteLatestOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  stop(): Promise<unknown> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  /** One read now (the timer calls it; tests may too). */
  refresh(): Promise<RemoteRefreshReport> {
    this.running ??= this.read().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh()
        .then(() => {
          if (this.failing) this.options.log.info({}, "metrics: reading other replicas' samples works again");
          this.failing = false;
        })
        .catch((error: unknown) => {
          if (!this.failing) {
            this.options.log.warn({ err: error }, "metrics: reading other replicas' samples failed");
          }
          this.failing = true;
        })
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async read(): Promise<RemoteRefreshReport> {
    const { db, latest, replicaId } = this.options;
    const startedAt = this.options.now();
    const local = new Set(this.options.localHostIds());
    // Held by another replica, or online without a connection here (the row
    // may not name its replica yet, or it is reconnecting): read its rows.
    const candidates = await db.$queryRaw<{ id: string }[]>`
      SELECT id FROM hosts
       WHERE (connected_replica IS NOT NULL AND connected_replica <> ${replicaId})
          OR status = 'online'`;
    const remote = candidates.map((row) => row.id).filter((id) => !local.has(id));
    if (remote.length === 0) {
      this.lastReadAt = null;
      return { remoteHosts: 0, containers: 0, hosts: 0 };
    }
    const since = new Date(
      this.lastReadAt === null
        ? startedAt - this.options.firstWindowMs
        : this.lastReadAt - 2 * this.options.metricsIntervalMs,
    );
    const [containerRows, hostRows] = await Promise.all([
      db.$queryRaw<ContainerSampleRow[]>`
        SELECT DISTINCT ON (container_id)
               container_id, host_id, ts, cpu_cores, cpu_throttled_periods, cpu_throttled_ns,
               memory_usage_bytes, memory_working_set_bytes, memory_limit_bytes, memory_failcnt,
               oom_kills, pids_current, pids_limit, net_rx_bytes, net_tx_bytes, net_rx_packets,
               net_tx_packets, blk_read_bytes, blk_write_bytes
          FROM container_samples
         WHERE host_id = ANY(${remote}::text[]) AND ts > ${since}
         ORDER BY container_id, ts DESC`,
      db.$queryRaw<HostSampleRow[]>`
        SELECT DISTINCT ON (host_id)
               host_id, ts, cpu_cores, cpu_count, memory_total_bytes, memory_available_bytes,
               memory_used_bytes, load1, load5, load15, disk_total_bytes, disk_free_bytes, containers
          FROM host_samples
         WHERE host_id = ANY(${remote}::text[]) AND ts > ${since}
         ORDER BY host_id, ts DESC`,
    ]);
    this.lastReadAt = startedAt;
    let containers = 0;
    let hosts = 0;
    // A connection that moved here meanwhile sends its own frames, which win when newer.
    for (const row of containerRows) {
      if (latest.recordContainer(row.host_id, containerSampleOf(row))) containers++;
    }
    for (const row of hostRows) {
      if (latest.recordHost(row.host_id, hostSampleOf(row))) hosts++;
    }
    if (containers + hosts > 0) this.options.changed();
    return { remoteHosts: remote.length, containers, hosts };
  }
}
