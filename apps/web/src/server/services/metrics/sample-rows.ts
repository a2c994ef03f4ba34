// Wire samples → one Postgres array literal per column, the parameters of a
// single `INSERT … SELECT … FROM unnest($1::text[], $2::int8[], …)`. That is one
// statement and one round trip per batch whatever its size, with a fixed
// parameter count (a multi-row VALUES list needs 17 parameters a row and hits
// Postgres' 65535-parameter limit at ~3800 rows). Each column travels as one
// text parameter built here with a join: handing the driver 19 arrays of
// thousands of values costs several times more CPU in its per-value encoding.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";

export interface QueuedContainerSample {
  kind: "container";
  hostId: string;
  sample: TContainerSample;
}

export interface QueuedHostSample {
  kind: "host";
  hostId: string;
  sample: THostSample;
}

export type QueuedSample = QueuedContainerSample | QueuedHostSample;

const INT8_MAX = 9_223_372_036_854_775_807n;
const INT4_MAX = 2_147_483_647;

/**
 * A cumulative counter or byte count as BIGINT text. Counters arrive as JSON
 * numbers that may exceed 2^53 (then they are already inexact, so rounding
 * costs nothing); text keeps every digit the number has on its way to pg.
 */
export function toInt8Text(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return "0";
  if (value <= Number.MAX_SAFE_INTEGER) return String(Math.round(value));
  const big = BigInt(Math.round(value));
  return (big > INT8_MAX ? INT8_MAX : big).toString();
}

export function toInt4(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.round(value), INT4_MAX);
}

/** Sorted by key and without duplicate keys: concurrent inserts then take row locks in one order (no deadlocks). */
function sortedUnique<T>(rows: readonly T[], key: (row: T) => string, ts: (row: T) => number): T[] {
  const sorted = [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : ts(a) - ts(b);
  });
  const unique: T[] = [];
  let previous: T | undefined;
  for (const row of sorted) {
    if (previous !== undefined && key(previous) === key(row) && ts(previous) === ts(row)) continue;
    unique.push(row);
    previous = row;
  }
  return unique;
}

/** How a column travels: `ts` is epoch milliseconds, turned into a timestamptz by the statement. */
export type ColumnKind = "text" | "int8" | "int4" | "float8" | "ts";

export const CONTAINER_SAMPLE_COLUMNS = [
  ["container_id", "text"],
  ["host_id", "text"],
  ["ts", "ts"],
  ["cpu_cores", "float8"],
  ["cpu_throttled_periods", "int8"],
  ["cpu_throttled_ns", "int8"],
  ["memory_usage_bytes", "int8"],
  ["memory_working_set_bytes", "int8"],
  ["memory_limit_bytes", "int8"],
  ["memory_failcnt", "int8"],
  ["oom_kills", "int4"],
  ["pids_current", "int4"],
  ["pids_limit", "int4"],
  ["net_rx_bytes", "int8"],
  ["net_tx_bytes", "int8"],
  ["net_rx_packets", "int8"],
  ["net_tx_packets", "int8"],
  ["blk_read_bytes", "int8"],
  ["blk_write_bytes", "int8"],
] as const satisfies readonly (readonly [string, ColumnKind])[];

export const HOST_SAMPLE_COLUMNS = [
  ["host_id", "text"],
  ["ts", "ts"],
  ["cpu_cores", "float8"],
  ["cpu_count", "int4"],
  ["memory_total_bytes", "int8"],
  ["memory_available_bytes", "int8"],
  ["memory_used_bytes", "int8"],
  ["load1", "float8"],
  ["load5", "float8"],
  ["load15", "float8"],
  ["disk_total_bytes", "int8"],
  ["disk_free_bytes", "int8"],
  ["containers", "int4"],
] as const satisfies readonly (readonly [string, ColumnKind])[];

// Elements made only of these need no quotes (ids, digits, ISO times); anything else is quoted.
const PLAIN_ELEMENT = /^[A-Za-z0-9_.:+-]+$/;

function element(value: string | number | null): string {
  if (value === null) return "NULL";
  // Numbers print as Postgres reads them back; the wire schema keeps them finite.
  if (typeof value === "number") return String(value);
  // Unquoted NULL would be a null: an id spelled "null" keeps its quotes.
  if (PLAIN_ELEMENT.test(value) && value.toLowerCase() !== "null") return value;
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/** A Postgres array literal: `{a,"b c",NULL,4}`. */
export function arrayLiteral(values: readonly (string | number | null)[]): string {
  return `{${values.map(element).join(",")}}`;
}

/** One array literal per column in `CONTAINER_SAMPLE_COLUMNS` order, and how many distinct rows they hold. */
export function containerSampleColumns(rows: readonly QueuedContainerSample[]): {
  columns: string[];
  rowCount: number;
} {
  const unique = sortedUnique(
    rows,
    (row) => row.sample.containerId,
    (row) => row.sample.ts,
  );
  const column = (pick: (row: QueuedContainerSample) => string | number | null) =>
    arrayLiteral(unique.map(pick));
  const columns = [
    column((row) => row.sample.containerId),
    column((row) => row.hostId),
    column((row) => Math.round(row.sample.ts)),
    column((row) => row.sample.cpuCores),
    column((row) => toInt8Text(row.sample.cpuThrottledPeriods)),
    column((row) => toInt8Text(row.sample.cpuThrottledNs)),
    column((row) => toInt8Text(row.sample.memoryUsageBytes)),
    column((row) => toInt8Text(row.sample.memoryWorkingSetBytes)),
    column((row) => (row.sample.memoryLimitBytes === null ? null : toInt8Text(row.sample.memoryLimitBytes))),
    column((row) => toInt8Text(row.sample.memoryFailcnt)),
    column((row) => toInt4(row.sample.oomKills)),
    column((row) => toInt4(row.sample.pidsCurrent)),
    column((row) => (row.sample.pidsLimit === null ? null : toInt4(row.sample.pidsLimit))),
    column((row) => toInt8Text(row.sample.netRxBytes)),
    column((row) => toInt8Text(row.sample.netTxBytes)),
    column((row) => toInt8Text(row.sample.netRxPackets)),
    column((row) => toInt8Text(row.sample.netTxPackets)),
    column((row) => toInt8Text(row.sample.blkReadBytes)),
    column((row) => toInt8Text(row.sample.blkWriteBytes)),
  ];
  return { columns, rowCount: unique.length };
}

/** One array literal per column in `HOST_SAMPLE_COLUMNS` order, and how many distinct rows they hold. */
export function hostSampleColumns(rows: readonly QueuedHostSample[]): {
  columns: string[];
  rowCount: number;
} {
  const unique = sortedUnique(
    rows,
    (row) => row.hostId,
    (row) => row.sample.ts,
  );
  const column = (pick: (row: QueuedHostSample) => string | number | null) => arrayLiteral(unique.map(pick));
  const columns = [
    column((row) => row.hostId),
    column((row) => Math.round(row.sample.ts)),
    column((row) => row.sample.cpuCores),
    column((row) => toInt4(row.sample.cpuCount)),
    column((row) => toInt8Text(row.sample.memoryTotalBytes)),
    column((row) => toInt8Text(row.sample.memoryAvailableBytes)),
    column((row) => toInt8Text(row.sample.memoryUsedBytes)),
    column((row) => row.sample.load1),
    column((row) => row.sample.load5),
    column((row) => row.sample.load15),
    column((row) => toInt8Text(row.sample.diskTotalBytes)),
    column((row) => toInt8Text(row.sample.diskFreeBytes)),
    column((row) => toInt4(row.sample.containers)),
  ];
  return { columns, rowCount: unique.length };
}

/**
 * `INSERT INTO "t" (…) SELECT … FROM unnest($1::text[], …) AS u(…) ON CONFLICT DO NOTHING`;
 * `ts` columns arrive as epoch milliseconds (exact in int8, unlike a float of seconds).
 */
export function unnestInsertSql(table: string, columns: readonly (readonly [string, ColumnKind])[]): string {
  const names = columns.map(([name]) => `"${name}"`).join(", ");
  const arrays = columns.map(([, kind], i) => `$${i + 1}::${kind === "ts" ? "int8" : kind}[]`).join(", ");
  const aliases = columns.map((_, i) => `c${i + 1}`).join(", ");
  const values = columns
    .map(([, kind], i) =>
      kind === "ts" ? `timestamptz 'epoch' + c${i + 1} * interval '1 millisecond'` : `c${i + 1}`,
    )
    .join(", ");
  return `INSERT INTO "${table}" (${names}) SELECT ${values} FROM unnest(${arrays}) AS u(${aliases}) ON CONFLICT DO NOTHING`;
}
