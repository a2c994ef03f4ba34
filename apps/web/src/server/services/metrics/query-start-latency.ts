// How long containers took to start: request → the agent's first report of
// `running` (`containers.start_latency_ms`, written once by the gateway), over
// the containers that reached running within a time window ending now.
//
// A window rather than "the last N containers": a quiet fleet then shows
// nothing instead of week-old figures presented as current, and the number
// has a meaning a person can read ("p99 over the last 24 h").
//
// Removed containers count: their start happened and was as slow as it was.
// Containers that never reached running have no latency and are left out
// (they show up as failures elsewhere, not as an infinite latency here).
import type { PrismaClient } from "../../db/client";

export interface StartLatencySummary {
  /** Containers that reached running within the window. */
  count: number;
  /** Continuous percentiles (interpolated, as Postgres' `percentile_cont`); null when count is 0. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

interface StartLatencyRow {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export async function queryStartLatency(options: {
  db: PrismaClient;
  /** Window start and end (epoch ms); a container counts when its running report falls in [from, to]. */
  from: number;
  to: number;
}): Promise<StartLatencySummary> {
  const { db } = options;
  const from = new Date(options.from);
  const to = new Date(options.to);
  const [row] = await db.$queryRaw<StartLatencyRow[]>`
    SELECT count(*)::int AS count,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY start_latency_ms)::float8 AS p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY start_latency_ms)::float8 AS p99,
      max(start_latency_ms)::float8 AS max
    FROM "containers"
    WHERE start_latency_ms IS NOT NULL
      AND running_reported_at >= ${from}::timestamptz
      AND running_reported_at <= ${to}::timestamptz`;
  const count = row?.count ?? 0;
  if (count === 0) return { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
  return { count, p50Ms: row?.p50 ?? null, p99Ms: row?.p99 ?? null, maxMs: row?.max ?? null };
}
