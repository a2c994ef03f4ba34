// Wire samples → the data of one `COPY … FROM STDIN (FORMAT binary)` per table
// and batch (see db/sample-copy.ts): one buffer written field by field, so a
// batch costs neither SQL nor text per value. What each field holds is decided
// here (counters rounded and clamped to the column's type). Rows are sorted by
// key and without duplicate keys: concurrent batches then take row locks in
// one order (no deadlocks), and a batch never collides with itself.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import { CopyBinaryEncoder, type CopyTable } from "../../db/sample-copy";

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
 * A cumulative counter or byte count for a BIGINT column. Counters arrive as
 * JSON numbers that may exceed 2^53 (then they are already inexact, so
 * rounding costs nothing); a bigint keeps every digit the number has.
 */
export function toInt8(value: number): number | bigint {
  if (!Number.isFinite(value) || value <= 0) return 0;
  if (value <= Number.MAX_SAFE_INTEGER) return Math.round(value);
  const big = BigInt(Math.round(value));
  return big > INT8_MAX ? INT8_MAX : big;
}

export function toInt4(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.round(value), INT4_MAX);
}

/**
 * Sorted by (key, ts) and without duplicate keys (the first of a duplicate key
 * wins; the database would keep the stored one anyway). Rows are grouped by
 * key and only the distinct keys are sorted: a batch holds a few samples per
 * container, so that is a fraction of the comparisons of sorting every row.
 */
function sortedUnique<T>(rows: readonly T[], key: (row: T) => string, ts: (row: T) => number): T[] {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  // The default order compares UTF-16 code units, as `<` does: one order for every batch.
  const keys = [...groups.keys()].sort();
  const unique: T[] = [];
  for (const k of keys) {
    const group = groups.get(k) as T[];
    // A stable sort: of two rows with one key, the first received stays first.
    if (group.length > 1) group.sort((a, b) => ts(a) - ts(b));
    let previousTs: number | undefined;
    for (const row of group) {
      const t = ts(row);
      if (t === previousTs) continue;
      unique.push(row);
      previousTs = t;
    }
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

/** A float8 field: the wire schema keeps numbers finite; should one not be, 0 rather than a NaN in the charts. */
function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

/** Bytes a row takes at most besides its text fields: room enough that the buffer rarely grows. */
const CONTAINER_ROW_BYTES = 2 + 19 * 4 + 17 * 8;
const HOST_ROW_BYTES = 2 + 13 * 4 + 12 * 8;

export interface CopyData {
  data: Buffer;
  /** Distinct rows in `data`. */
  rowCount: number;
}

/** COPY data for `CONTAINER_SAMPLE_TABLE`. */
export function containerSampleCopy(rows: readonly QueuedContainerSample[]): CopyData {
  const unique = sortedUnique(
    rows,
    (row) => row.sample.containerId,
    (row) => row.sample.ts,
  );
  const out = new CopyBinaryEncoder(64 + unique.length * (CONTAINER_ROW_BYTES + 64));
  for (const { hostId, sample } of unique) {
    out.row(CONTAINER_SAMPLE_TABLE.columns.length);
    out.text(sample.containerId);
    out.text(hostId);
    out.timestamptz(Math.round(sample.ts));
    out.float8(finite(sample.cpuCores));
    out.int8(toInt8(sample.cpuThrottledPeriods));
    out.int8(toInt8(sample.cpuThrottledNs));
    out.int8(toInt8(sample.memoryUsageBytes));
    out.int8(toInt8(sample.memoryWorkingSetBytes));
    if (sample.memoryLimitBytes === null) out.null();
    else out.int8(toInt8(sample.memoryLimitBytes));
    out.int8(toInt8(sample.memoryFailcnt));
    out.int4(toInt4(sample.oomKills));
    out.int4(toInt4(sample.pidsCurrent));
    if (sample.pidsLimit === null) out.null();
    else out.int4(toInt4(sample.pidsLimit));
    out.int8(toInt8(sample.netRxBytes));
    out.int8(toInt8(sample.netTxBytes));
    out.int8(toInt8(sample.netRxPackets));
    out.int8(toInt8(sample.netTxPackets));
    out.int8(toInt8(sample.blkReadBytes));
    out.int8(toInt8(sample.blkWriteBytes));
  }
  return { data: out.finish(), rowCount: unique.length };
}

/** COPY data for `HOST_SAMPLE_TABLE`. */
export function hostSampleCopy(rows: readonly QueuedHostSample[]): CopyData {
  const unique = sortedUnique(
    rows,
    (row) => row.hostId,
    (row) => row.sample.ts,
  );
  const out = new CopyBinaryEncoder(64 + unique.length * (HOST_ROW_BYTES + 32));
  for (const { hostId, sample } of unique) {
    out.row(HOST_SAMPLE_TABLE.columns.length);
    out.text(hostId);
    out.timestamptz(Math.round(sample.ts));
    out.float8(finite(sample.cpuCores));
    out.int4(toInt4(sample.cpuCount));
    out.int8(toInt8(sample.memoryTotalBytes));
    out.int8(toInt8(sample.memoryAvailableBytes));
    out.int8(toInt8(sample.memoryUsedBytes));
    out.float8(finite(sample.load1));
    out.float8(finite(sample.load5));
    out.float8(finite(sample.load15));
    out.int8(toInt8(sample.diskTotalBytes));
    out.int8(toInt8(sample.diskFreeBytes));
    out.int4(toInt4(sample.containers));
  }
  return { data: out.finish(), rowCount: unique.length };
}
