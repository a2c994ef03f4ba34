// Wire samples → rows of `COPY … FROM STDIN (FORMAT binary)` for the raw
// sample tables (see db/sample-copy.ts), encoded as a frame arrives: the write
// queue then holds one buffer per frame rather than an object per sample, and
// the samples the agent sent are garbage at once instead of ageing in the
// queue (the central's event loop, with its garbage collector, is what limits
// ingest). What each field holds is decided here: counters rounded and
// clamped to the column's type, non-finite floats as 0.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import {
  COPY_FIELD_BYTES,
  COPY_ROW_BYTES,
  type CopyRowEncoder,
  type CopyTable,
  copyTextBytes,
} from "../../db/sample-copy";

/** One host's samples of one kind, encoded: what the write queue holds. */
export interface EncodedSamples {
  kind: "container" | "host";
  hostId: string;
  /** Rows in `data`. */
  rows: number;
  /** COPY binary rows for the kind's table, without header and trailer. */
  data: Buffer;
  /** The distinct sample times among them (for the rollups' bookkeeping). */
  times: number[];
}

/** A sample as tests and one-off writes name it: which host sent it, and the sample. */
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

// A row's bytes besides its text fields (a null takes less than the value it stands for).
const F = COPY_FIELD_BYTES;
const CONTAINER_ROW_BYTES = COPY_ROW_BYTES + F.timestamptz + F.float8 + 12 * F.int8 + 3 * F.int4;
const HOST_ROW_BYTES = COPY_ROW_BYTES + F.timestamptz + 4 * F.float8 + 5 * F.int8 + 2 * F.int4;

function noteTime(times: number[], ts: number): void {
  // A frame holds one time per agent interval it covers: a short list.
  if (times[times.length - 1] !== ts && !times.includes(ts)) times.push(ts);
}

/** One host's container samples, in the order given, as rows of `CONTAINER_SAMPLE_TABLE`. */
export function encodeContainerSamples(
  out: CopyRowEncoder,
  hostId: string,
  samples: readonly TContainerSample[],
): EncodedSamples {
  let bytes = samples.length * (CONTAINER_ROW_BYTES + copyTextBytes(hostId));
  for (const sample of samples) bytes += copyTextBytes(sample.containerId);
  out.begin(bytes);
  const times: number[] = [];
  for (const sample of samples) {
    const ts = Math.round(sample.ts);
    noteTime(times, ts);
    out.row(CONTAINER_SAMPLE_TABLE.columns.length);
    out.text(sample.containerId);
    out.text(hostId);
    out.timestamptz(ts);
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
  return { kind: "container", hostId, rows: samples.length, data: out.end(), times };
}

/** One host sample as a row of `HOST_SAMPLE_TABLE`. */
export function encodeHostSample(out: CopyRowEncoder, hostId: string, sample: THostSample): EncodedSamples {
  out.begin(HOST_ROW_BYTES + copyTextBytes(hostId));
  const ts = Math.round(sample.ts);
  out.row(HOST_SAMPLE_TABLE.columns.length);
  out.text(hostId);
  out.timestamptz(ts);
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
  return { kind: "host", hostId, rows: 1, data: out.end(), times: [ts] };
}
