// Wire samples → the lines of one `COPY … FROM STDIN` per table and batch (text
// format, see db/sample-copy.ts): one string built with joins, handed to the
// connection as one buffer, so a batch costs neither SQL per row nor the
// driver's per-value encoding. Rows are sorted by key and without duplicate
// keys: concurrent batches then take row locks in one order (no deadlocks),
// and a batch never collides with itself.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import { COPY_NULL, type CopyTable, copyTextField } from "../../db/sample-copy";

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

/** Sorted by key and without duplicate keys (the first of a duplicate key wins; the database would keep the stored one anyway). */
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

export const CONTAINER_SAMPLE_TABLE = {
  table: "container_samples",
  columns: [
    "container_id",
    "host_id",
    "ts",
    "cpu_cores",
    "cpu_throttled_periods",
    "cpu_throttled_ns",
    "memory_usage_bytes",
    "memory_working_set_bytes",
    "memory_limit_bytes",
    "memory_failcnt",
    "oom_kills",
    "pids_current",
    "pids_limit",
    "net_rx_bytes",
    "net_tx_bytes",
    "net_rx_packets",
    "net_tx_packets",
    "blk_read_bytes",
    "blk_write_bytes",
  ],
  key: ["container_id", "ts"],
} as const satisfies CopyTable;

export const HOST_SAMPLE_TABLE = {
  table: "host_samples",
  columns: [
    "host_id",
    "ts",
    "cpu_cores",
    "cpu_count",
    "memory_total_bytes",
    "memory_available_bytes",
    "memory_used_bytes",
    "load1",
    "load5",
    "load15",
    "disk_total_bytes",
    "disk_free_bytes",
    "containers",
  ],
  key: ["host_id", "ts"],
} as const satisfies CopyTable;

// toISOString() writes years past 9999 as "+010000-…", which Postgres does not read.
const LAST_FOUR_DIGIT_YEAR_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Epoch milliseconds as timestamptz text, every millisecond kept (the column
 * is TIMESTAMPTZ(3)). Years past 9999 (an agent clock far off) are written as
 * Postgres writes them, so such a sample is stored as the INSERT stored it.
 */
export function timestamptzText(ms: number): string {
  const rounded = Math.round(ms);
  if (rounded <= LAST_FOUR_DIGIT_YEAR_MS) return new Date(rounded).toISOString();
  const date = new Date(rounded);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}.` +
    `${String(date.getUTCMilliseconds()).padStart(3, "0")}+00`
  );
}

/** A float8 field: JS prints finite numbers (exponents included) as Postgres reads them; the wire schema keeps them finite. */
function float8Text(value: number): string {
  return Number.isFinite(value) ? String(value) : "0";
}

/** COPY lines for `CONTAINER_SAMPLE_TABLE`, and how many distinct rows they hold. */
export function containerSampleLines(rows: readonly QueuedContainerSample[]): {
  lines: string;
  rowCount: number;
} {
  const unique = sortedUnique(
    rows,
    (row) => row.sample.containerId,
    (row) => row.sample.ts,
  );
  const lines = unique.map(({ hostId, sample }) =>
    [
      copyTextField(sample.containerId),
      copyTextField(hostId),
      timestamptzText(sample.ts),
      float8Text(sample.cpuCores),
      toInt8Text(sample.cpuThrottledPeriods),
      toInt8Text(sample.cpuThrottledNs),
      toInt8Text(sample.memoryUsageBytes),
      toInt8Text(sample.memoryWorkingSetBytes),
      sample.memoryLimitBytes === null ? COPY_NULL : toInt8Text(sample.memoryLimitBytes),
      toInt8Text(sample.memoryFailcnt),
      toInt4(sample.oomKills),
      toInt4(sample.pidsCurrent),
      sample.pidsLimit === null ? COPY_NULL : toInt4(sample.pidsLimit),
      toInt8Text(sample.netRxBytes),
      toInt8Text(sample.netTxBytes),
      toInt8Text(sample.netRxPackets),
      toInt8Text(sample.netTxPackets),
      toInt8Text(sample.blkReadBytes),
      toInt8Text(sample.blkWriteBytes),
    ].join("\t"),
  );
  return { lines: unique.length === 0 ? "" : `${lines.join("\n")}\n`, rowCount: unique.length };
}

/** COPY lines for `HOST_SAMPLE_TABLE`, and how many distinct rows they hold. */
export function hostSampleLines(rows: readonly QueuedHostSample[]): { lines: string; rowCount: number } {
  const unique = sortedUnique(
    rows,
    (row) => row.hostId,
    (row) => row.sample.ts,
  );
  const lines = unique.map(({ hostId, sample }) =>
    [
      copyTextField(hostId),
      timestamptzText(sample.ts),
      float8Text(sample.cpuCores),
      toInt4(sample.cpuCount),
      toInt8Text(sample.memoryTotalBytes),
      toInt8Text(sample.memoryAvailableBytes),
      toInt8Text(sample.memoryUsedBytes),
      float8Text(sample.load1),
      float8Text(sample.load5),
      float8Text(sample.load15),
      toInt8Text(sample.diskTotalBytes),
      toInt8Text(sample.diskFreeBytes),
      toInt4(sample.containers),
    ].join("\t"),
  );
  return { lines: unique.length === 0 ? "" : `${lines.join("\n")}\n`, rowCount: unique.length };
}
