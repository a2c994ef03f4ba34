// The SQL of the four rollups. Each is one INSERT … SELECT … GROUP BY over a
// time range, upserting on (subject, bucket): it recomputes whole buckets from
// their complete source rows, so running it twice gives the same result.
// Buckets are cut in UTC (`date_trunc(unit, ts, 'UTC')`), never in the
// session's time zone.
//
// Counter increases: the difference to the previous sample of the same
// container, a drop meaning the counter restarted from zero (so the increase
// is the new value). The previous sample may sit before the range: the newest
// one up to `COUNTER_LOOKBACK` earlier counts; without one the increase is 0.

export const COUNTER_LOOKBACK = "10 minutes";

function increase(column: string): string {
  return `CASE WHEN p_${column} IS NULL THEN 0 WHEN ${column} >= p_${column} THEN ${column} - p_${column} ELSE ${column} END`;
}

function upsert(columns: readonly string[], key: readonly string[]): string {
  const updates = columns
    .filter((column) => !key.includes(column))
    .map((column) => `"${column}" = EXCLUDED."${column}"`)
    .join(", ");
  return `ON CONFLICT (${key.map((column) => `"${column}"`).join(", ")}) DO UPDATE SET ${updates}`;
}

const CONTAINER_ROLLUP_COLUMNS = [
  "container_id",
  "host_id",
  "bucket",
  "sample_count",
  "cpu_cores_avg",
  "cpu_cores_max",
  "memory_usage_bytes_avg",
  "memory_usage_bytes_max",
  "memory_working_set_bytes_avg",
  "memory_working_set_bytes_max",
  "memory_limit_bytes_max",
  "pids_current_max",
  "cpu_throttled_periods_delta",
  "cpu_throttled_ns_delta",
  "memory_failcnt_delta",
  "oom_kills_delta",
  "cpu_throttled_periods_last",
  "cpu_throttled_ns_last",
  "memory_failcnt_last",
  "oom_kills_last",
  "net_rx_bytes_last",
  "net_tx_bytes_last",
  "net_rx_packets_last",
  "net_tx_packets_last",
  "blk_read_bytes_last",
  "blk_write_bytes_last",
] as const;

const HOST_ROLLUP_COLUMNS = [
  "host_id",
  "bucket",
  "sample_count",
  "cpu_cores_avg",
  "cpu_cores_max",
  "cpu_count",
  "memory_total_bytes",
  "memory_used_bytes_avg",
  "memory_used_bytes_max",
  "memory_available_bytes_min",
  "load1_avg",
  "load1_max",
  "load5_avg",
  "load15_avg",
  "disk_total_bytes",
  "disk_free_bytes_min",
  "containers_avg",
  "containers_max",
] as const;

const LAST_COUNTERS = [
  "cpu_throttled_periods",
  "cpu_throttled_ns",
  "memory_failcnt",
  "oom_kills",
  "net_rx_bytes",
  "net_tx_bytes",
  "net_rx_packets",
  "net_tx_packets",
  "blk_read_bytes",
  "blk_write_bytes",
] as const;

const DELTA_COUNTERS = ["cpu_throttled_periods", "cpu_throttled_ns", "memory_failcnt", "oom_kills"] as const;

function columnList(columns: readonly string[]): string {
  return columns.map((column) => `"${column}"`).join(", ");
}

/**
 * Parameters: $1 host ids (text[]), $2 from, $3 to (timestamptz, minute-aligned).
 * The previous sample of each container comes from one primary-key probe per
 * container (`prev`), not from re-reading the lookback window of every one.
 */
export const CONTAINER_MINUTE_ROLLUP = `
WITH cur AS (
  SELECT *
  FROM "container_samples" c
  WHERE c.host_id = ANY($1::text[]) AND c.ts >= $2::timestamptz AND c.ts < $3::timestamptz
), prev AS (
  SELECT p.container_id, p.ts, ${DELTA_COUNTERS.map((col) => `p.${col}`).join(", ")}
  FROM (SELECT DISTINCT container_id FROM cur) k
  CROSS JOIN LATERAL (
    SELECT s.container_id, s.ts, ${DELTA_COUNTERS.map((col) => `s.${col}`).join(", ")}
    FROM "container_samples" s
    WHERE s.container_id = k.container_id
      AND s.ts < $2::timestamptz
      AND s.ts >= $2::timestamptz - interval '${COUNTER_LOOKBACK}'
    ORDER BY s.ts DESC
    LIMIT 1
  ) p
), ordered AS (
  SELECT u.*,
    ${DELTA_COUNTERS.map((col) => `lag(u.${col}) OVER w AS p_${col}`).join(",\n    ")}
  FROM (
    SELECT container_id, ts, ${DELTA_COUNTERS.join(", ")}, TRUE AS in_range FROM cur
    UNION ALL
    SELECT container_id, ts, ${DELTA_COUNTERS.join(", ")}, FALSE FROM prev
  ) u
  WINDOW w AS (PARTITION BY u.container_id ORDER BY u.ts)
), b AS (
  SELECT cur.*,
    ${DELTA_COUNTERS.map((col) => `o.p_${col}`).join(",\n    ")},
    date_trunc('minute', cur.ts, 'UTC') AS bucket,
    row_number() OVER (PARTITION BY cur.container_id, date_trunc('minute', cur.ts, 'UTC') ORDER BY cur.ts DESC) AS rn
  FROM cur
  JOIN ordered o ON o.in_range AND o.container_id = cur.container_id AND o.ts = cur.ts
)
INSERT INTO "container_samples_minute" (${columnList(CONTAINER_ROLLUP_COLUMNS)})
SELECT
  container_id,
  max(host_id) FILTER (WHERE rn = 1),
  bucket,
  count(*)::int,
  avg(cpu_cores),
  max(cpu_cores),
  round(avg(memory_usage_bytes))::bigint,
  max(memory_usage_bytes),
  round(avg(memory_working_set_bytes))::bigint,
  max(memory_working_set_bytes),
  max(memory_limit_bytes),
  max(pids_current),
  ${DELTA_COUNTERS.map((c) => `coalesce(sum(${increase(c)}), 0)::${c === "oom_kills" ? "int" : "bigint"}`).join(",\n  ")},
  ${LAST_COUNTERS.map((c) => `max(${c}) FILTER (WHERE rn = 1)`).join(",\n  ")}
FROM b
GROUP BY container_id, bucket
${upsert(CONTAINER_ROLLUP_COLUMNS, ["container_id", "bucket"])}`;

/** Parameters: $1 from, $2 to (timestamptz, hour-aligned). Averages are weighted by sample count. */
export const CONTAINER_HOUR_ROLLUP = `
INSERT INTO "container_samples_hour" (${columnList(CONTAINER_ROLLUP_COLUMNS)})
SELECT
  container_id,
  max(host_id) FILTER (WHERE rn = 1),
  hour,
  sum(sample_count)::int,
  sum(cpu_cores_avg * sample_count) / sum(sample_count),
  max(cpu_cores_max),
  round(sum(memory_usage_bytes_avg::numeric * sample_count) / sum(sample_count))::bigint,
  max(memory_usage_bytes_max),
  round(sum(memory_working_set_bytes_avg::numeric * sample_count) / sum(sample_count))::bigint,
  max(memory_working_set_bytes_max),
  max(memory_limit_bytes_max),
  max(pids_current_max),
  ${DELTA_COUNTERS.map((c) => `sum(${c}_delta)::${c === "oom_kills" ? "int" : "bigint"}`).join(",\n  ")},
  ${LAST_COUNTERS.map((c) => `max(${c}_last) FILTER (WHERE rn = 1)`).join(",\n  ")}
FROM (
  SELECT m.*,
    date_trunc('hour', m.bucket, 'UTC') AS hour,
    row_number() OVER (PARTITION BY m.container_id, date_trunc('hour', m.bucket, 'UTC') ORDER BY m.bucket DESC) AS rn
  FROM "container_samples_minute" m
  WHERE m.bucket >= $1::timestamptz AND m.bucket < $2::timestamptz
) x
GROUP BY container_id, hour
${upsert(CONTAINER_ROLLUP_COLUMNS, ["container_id", "bucket"])}`;

/** Parameters: $1 host ids (text[]), $2 from, $3 to (timestamptz, minute-aligned). */
export const HOST_MINUTE_ROLLUP = `
INSERT INTO "host_samples_minute" (${columnList(HOST_ROLLUP_COLUMNS)})
SELECT
  host_id,
  bucket,
  count(*)::int,
  avg(cpu_cores),
  max(cpu_cores),
  max(cpu_count) FILTER (WHERE rn = 1),
  max(memory_total_bytes) FILTER (WHERE rn = 1),
  round(avg(memory_used_bytes))::bigint,
  max(memory_used_bytes),
  min(memory_available_bytes),
  avg(load1),
  max(load1),
  avg(load5),
  avg(load15),
  max(disk_total_bytes) FILTER (WHERE rn = 1),
  min(disk_free_bytes),
  avg(containers),
  max(containers)
FROM (
  SELECT h.*,
    date_trunc('minute', h.ts, 'UTC') AS bucket,
    row_number() OVER (PARTITION BY h.host_id, date_trunc('minute', h.ts, 'UTC') ORDER BY h.ts DESC) AS rn
  FROM "host_samples" h
  WHERE h.host_id = ANY($1::text[]) AND h.ts >= $2::timestamptz AND h.ts < $3::timestamptz
) b
GROUP BY host_id, bucket
${upsert(HOST_ROLLUP_COLUMNS, ["host_id", "bucket"])}`;

/** Parameters: $1 from, $2 to (timestamptz, hour-aligned). */
export const HOST_HOUR_ROLLUP = `
INSERT INTO "host_samples_hour" (${columnList(HOST_ROLLUP_COLUMNS)})
SELECT
  host_id,
  hour,
  sum(sample_count)::int,
  sum(cpu_cores_avg * sample_count) / sum(sample_count),
  max(cpu_cores_max),
  max(cpu_count) FILTER (WHERE rn = 1),
  max(memory_total_bytes) FILTER (WHERE rn = 1),
  round(sum(memory_used_bytes_avg::numeric * sample_count) / sum(sample_count))::bigint,
  max(memory_used_bytes_max),
  min(memory_available_bytes_min),
  sum(load1_avg * sample_count) / sum(sample_count),
  max(load1_max),
  sum(load5_avg * sample_count) / sum(sample_count),
  sum(load15_avg * sample_count) / sum(sample_count),
  max(disk_total_bytes) FILTER (WHERE rn = 1),
  min(disk_free_bytes_min),
  sum(containers_avg * sample_count) / sum(sample_count),
  max(containers_max)
FROM (
  SELECT m.*,
    date_trunc('hour', m.bucket, 'UTC') AS hour,
    row_number() OVER (PARTITION BY m.host_id, date_trunc('hour', m.bucket, 'UTC') ORDER BY m.bucket DESC) AS rn
  FROM "host_samples_minute" m
  WHERE m.bucket >= $1::timestamptz AND m.bucket < $2::timestamptz
) x
GROUP BY host_id, hour
${upsert(HOST_ROLLUP_COLUMNS, ["host_id", "bucket"])}`;
