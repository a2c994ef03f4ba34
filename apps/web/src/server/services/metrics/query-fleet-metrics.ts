// The whole fleet's series: host figures summed over hosts per point. At raw
// resolution hosts sample at their own moments, so samples are first averaged
// per host within bins of `rawFleetBinMs` and then summed; rollup buckets are
// already aligned.
import type { PrismaClient } from "../../db/client";
import { checkRange, type MetricsSeries } from "./query-container-metrics";
import { pickResolution, rawFleetBinMs, resolutionStepMs } from "./resolution";

export interface FleetMetricsPoint {
  /** Bin or bucket start (epoch ms). */
  t: number;
  /** Hosts that reported within the point. */
  hosts: number;
  cpuCores: number;
  cpuCount: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  containers: number;
}

interface FleetRow {
  t: Date;
  hosts: number;
  cpu_cores: number;
  cpu_count: number;
  memory_used_bytes: number;
  memory_total_bytes: number;
  containers: number;
}

const RAW_FLEET_SERIES = `
SELECT t,
  count(*)::int AS hosts,
  sum(cpu_cores)::float8 AS cpu_cores,
  sum(cpu_count)::float8 AS cpu_count,
  sum(memory_used_bytes)::float8 AS memory_used_bytes,
  sum(memory_total_bytes)::float8 AS memory_total_bytes,
  sum(containers)::float8 AS containers
FROM (
  SELECT host_id,
    date_bin($3::bigint * interval '1 millisecond', ts, timestamptz '1970-01-01 00:00:00+00') AS t,
    avg(cpu_cores) AS cpu_cores,
    max(cpu_count) AS cpu_count,
    avg(memory_used_bytes) AS memory_used_bytes,
    max(memory_total_bytes) AS memory_total_bytes,
    avg(containers) AS containers
  FROM "host_samples"
  WHERE ts >= $1::timestamptz AND ts < $2::timestamptz
  GROUP BY 1, 2
) per_host
GROUP BY t
ORDER BY t`;

function rollupFleetSeries(table: string): string {
  return `
SELECT bucket AS t,
  count(*)::int AS hosts,
  sum(cpu_cores_avg)::float8 AS cpu_cores,
  sum(cpu_count)::float8 AS cpu_count,
  sum(memory_used_bytes_avg)::float8 AS memory_used_bytes,
  sum(memory_total_bytes)::float8 AS memory_total_bytes,
  sum(containers_avg)::float8 AS containers
FROM "${table}"
WHERE bucket >= $1::timestamptz AND bucket < $2::timestamptz
GROUP BY bucket
ORDER BY bucket`;
}

const MINUTE_FLEET_SERIES = rollupFleetSeries("host_samples_minute");
const HOUR_FLEET_SERIES = rollupFleetSeries("host_samples_hour");

export async function fleetMetrics(options: {
  db: PrismaClient;
  from: number;
  to: number;
  /** The agents' sampling interval, which sets the raw bin width. */
  metricsIntervalMs: number;
}): Promise<MetricsSeries<FleetMetricsPoint>> {
  const { db, from, to, metricsIntervalMs } = options;
  checkRange(options);
  const resolution = pickResolution(from, to);
  const fromIso = new Date(from).toISOString();
  const toIso = new Date(to).toISOString();
  let rows: FleetRow[];
  let stepMs: number;
  if (resolution === "raw") {
    stepMs = rawFleetBinMs(from, to, metricsIntervalMs);
    rows = await db.$queryRawUnsafe<FleetRow[]>(RAW_FLEET_SERIES, fromIso, toIso, stepMs);
  } else {
    stepMs = resolutionStepMs(resolution);
    const sql = resolution === "minute" ? MINUTE_FLEET_SERIES : HOUR_FLEET_SERIES;
    rows = await db.$queryRawUnsafe<FleetRow[]>(sql, fromIso, toIso);
  }
  const points = rows.map((row) => ({
    t: row.t.getTime(),
    hosts: row.hosts,
    cpuCores: row.cpu_cores,
    cpuCount: row.cpu_count,
    memoryUsedBytes: row.memory_used_bytes,
    memoryTotalBytes: row.memory_total_bytes,
    containers: row.containers,
  }));
  return { resolution, stepMs, from, to, points };
}
