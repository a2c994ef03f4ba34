// The whole fleet's series: host figures summed over hosts per rollup bucket
// (per minute up to three days, per hour beyond), never from raw samples: at
// 2,000 hosts an hour of raw samples is 1.4 million rows (over a second to
// sum), where a minute's rollups are 2,000.
//
// Even rollups are millions of rows over a day, so each resolution keeps the
// fleet's points in memory: a call sums only the buckets from shortly before
// the newest one it holds (rollups rewrite recent buckets as late samples
// arrive). Every few minutes the whole held range is summed again in the
// background, which picks up older buckets rolled again after an agent sent
// its spool; only a range reaching further back than what is held makes a
// caller wait for a sum over all of it (the first Overview after a start).
import type { PrismaClient } from "../../db/client";
import { checkRange, type MetricsSeries } from "./query-container-metrics";
import { pickResolution, resolutionStepMs } from "./resolution";

export interface FleetMetricsPoint {
  /** Bucket start (epoch ms). */
  t: number;
  /** Hosts that reported within the point. */
  hosts: number;
  cpuCores: number;
  cpuCount: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  containers: number;
}

type TFleetResolution = "minute" | "hour";

interface FleetRow {
  t: Date;
  hosts: number;
  cpu_cores: number;
  cpu_count: number;
  memory_used_bytes: number;
  memory_total_bytes: number;
  containers: number;
}

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

const FLEET_SERIES_SQL: Record<TFleetResolution, string> = {
  minute: rollupFleetSeries("host_samples_minute"),
  hour: rollupFleetSeries("host_samples_hour"),
};

/** Buckets this far behind the newest one held are summed again on every call. */
const RECENT_MS: Record<TFleetResolution, number> = { minute: 15 * 60_000, hour: 3 * 60 * 60_000 };
/** A whole refresh keeps at least this much of what was held before, for the longer range a page also shows. */
const KEEP_MS: Record<TFleetResolution, number> = { minute: 24 * 60 * 60_000, hour: 7 * 24 * 60 * 60_000 };
/** The whole range is summed again at least this often. */
const FULL_REFRESH_MS = 5 * 60_000;

function fleetResolution(from: number, to: number): TFleetResolution {
  return pickResolution(from, to) === "hour" ? "hour" : "minute";
}

async function sumBuckets(
  db: PrismaClient,
  resolution: TFleetResolution,
  from: number,
  to: number,
): Promise<FleetMetricsPoint[]> {
  const rows = await db.$queryRawUnsafe<FleetRow[]>(
    FLEET_SERIES_SQL[resolution],
    new Date(from).toISOString(),
    new Date(to).toISOString(),
  );
  return rows.map((row) => ({
    t: row.t.getTime(),
    hosts: row.hosts,
    cpuCores: row.cpu_cores,
    cpuCount: row.cpu_count,
    memoryUsedBytes: row.memory_used_bytes,
    memoryTotalBytes: row.memory_total_bytes,
    containers: row.containers,
  }));
}

interface BucketCache {
  points: Map<number, FleetMetricsPoint>;
  /** Start of the oldest bucket held; null when nothing is. */
  from: number | null;
  /** When the held range was last summed whole (monotonic ms). */
  fullAt: number;
  wholeRunning: boolean;
  /** Calls take turns, so a burst of callers after a start sums the range once. */
  turn: Promise<unknown>;
}

export type FleetMetricsReader = (input: {
  from: number;
  to: number;
}) => Promise<MetricsSeries<FleetMetricsPoint>>;

/** The fleet's series with each resolution's points kept between calls (see above). */
export function createFleetMetricsReader(options: {
  db: PrismaClient;
  /** Monotonic time for the cache's own refreshes; defaults to performance.now. */
  monotonicNow?: () => number;
}): FleetMetricsReader {
  const { db } = options;
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const caches: Record<TFleetResolution, BucketCache> = {
    minute: { points: new Map(), from: null, fullAt: 0, wholeRunning: false, turn: Promise.resolve() },
    hour: { points: new Map(), from: null, fullAt: 0, wholeRunning: false, turn: Promise.resolve() },
  };

  const newestHeld = (cache: BucketCache, from: number) =>
    Math.max(cache.from ?? from, ...cache.points.keys());

  /** Sums the whole held range beside the callers, who meanwhile get what is held (it takes up to a second). */
  function refreshWholeInBackground(cache: BucketCache, resolution: TFleetResolution, to: number) {
    const from = cache.from;
    if (cache.wholeRunning || from === null) return;
    cache.wholeRunning = true;
    cache.fullAt = monotonicNow();
    sumBuckets(db, resolution, from, to)
      .then((points) => {
        if (cache.from !== from) return; // started afresh meanwhile
        // The recent buckets are the callers' own to refresh.
        const cutoff = newestHeld(cache, from) - RECENT_MS[resolution];
        for (const t of cache.points.keys()) if (t < cutoff) cache.points.delete(t);
        for (const point of points) if (point.t < cutoff) cache.points.set(point.t, point);
      })
      .catch(() => {
        cache.fullAt = 0;
      })
      .finally(() => {
        cache.wholeRunning = false;
      });
  }

  async function refresh(cache: BucketCache, resolution: TFleetResolution, from: number, to: number) {
    let sumFrom: number;
    if (cache.from === null || from < cache.from) {
      sumFrom = Math.min(from, Math.max(cache.from ?? from, to - KEEP_MS[resolution]));
      cache.points.clear();
      cache.from = sumFrom;
      cache.fullAt = monotonicNow();
    } else {
      if (monotonicNow() - cache.fullAt >= FULL_REFRESH_MS) refreshWholeInBackground(cache, resolution, to);
      sumFrom = Math.max(cache.from, newestHeld(cache, from) - RECENT_MS[resolution]);
    }
    const points = await sumBuckets(db, resolution, sumFrom, to);
    for (const t of cache.points.keys()) if (t >= sumFrom) cache.points.delete(t);
    for (const point of points) cache.points.set(point.t, point);
  }

  return async ({ from, to }) => {
    checkRange({ from, to });
    const resolution = fleetResolution(from, to);
    const stepMs = resolutionStepMs(resolution);
    const alignedFrom = Math.floor(from / stepMs) * stepMs;
    const cache = caches[resolution];
    const turn = cache.turn.then(() => refresh(cache, resolution, alignedFrom, to));
    cache.turn = turn.catch(() => undefined);
    try {
      await turn;
    } catch (error) {
      // What failed halfway is not trusted next time.
      cache.points.clear();
      cache.from = null;
      throw error;
    }
    const points = [...cache.points.values()]
      .filter((point) => point.t >= from && point.t < to)
      .sort((a, b) => a.t - b.t);
    return { resolution, stepMs, from, to, points };
  };
}
