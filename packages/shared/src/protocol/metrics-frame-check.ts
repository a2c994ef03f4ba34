// The `metrics` frame checked without zod's machinery. A central receives one
// from every agent every interval, each with a sample per container, and
// zod's generic walk over them (and the copy of every object it builds) was
// the largest share of the central's CPU at ingest. This check only ever says
// yes to a frame that ZMetricsFrame accepts unchanged: every field as the
// schema wants it and no key the schema would strip, so the parsed JSON itself
// is the frame. Anything else it leaves to zod (null), which then decides and
// explains: verdicts and messages stay zod's. frame.test.ts holds the two to
// the same answers.
import type { TContainerSample, THostSample } from "../domain/metrics";
import { MAX_SAMPLES_PER_BATCH, type TMetricsFrame } from "./agent-to-server";

// As ZContainerId and ZWireId (1-64 characters of these).
const CONTAINER_ID = /^[a-z0-9-]+$/;
const WIRE_ID = /^[A-Za-z0-9_-]+$/;

const FRAME_KEYS = new Set(["type", "batchId", "containers", "host", "droppedSamples"]);

type TJsonObject = Record<string, unknown>;
type TFieldCheck = (value: unknown) => boolean;

function isObject(value: unknown): value is TJsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every enumerable key is one of `keys`, and all of them are there. */
function hasExactly(value: TJsonObject, keys: ReadonlySet<string>): boolean {
  let count = 0;
  for (const key in value) {
    if (!keys.has(key)) return false;
    count++;
  }
  return count === keys.size;
}

/** z.number().nonnegative(): finite (NaN fails the comparison) and ≥ 0. */
function gauge(value: unknown): boolean {
  return typeof value === "number" && value >= 0 && value <= Number.MAX_VALUE;
}

/** z.int().nonnegative() (zod's int is a safe integer). */
function count(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function id(value: unknown, pattern: RegExp): boolean {
  return typeof value === "string" && value.length >= 1 && value.length <= 64 && pattern.test(value);
}

const nullable =
  (check: TFieldCheck): TFieldCheck =>
  (value) =>
    value === null || check(value);

// Each sample field once, with its check: the type demands every field and no other.
const CONTAINER_SAMPLE_FIELDS: Readonly<Record<keyof TContainerSample, TFieldCheck>> = {
  containerId: (value) => id(value, CONTAINER_ID),
  ts: count,
  cpuCores: gauge,
  cpuUsageNs: gauge,
  cpuPeriods: gauge,
  cpuThrottledPeriods: gauge,
  cpuThrottledNs: gauge,
  memoryUsageBytes: gauge,
  memoryWorkingSetBytes: gauge,
  memoryLimitBytes: nullable(gauge),
  memoryFailcnt: gauge,
  oomKills: gauge,
  pidsCurrent: count,
  pidsLimit: nullable(count),
  netRxBytes: gauge,
  netTxBytes: gauge,
  netRxPackets: gauge,
  netTxPackets: gauge,
  blkReadBytes: gauge,
  blkWriteBytes: gauge,
};
const HOST_SAMPLE_FIELDS: Readonly<Record<keyof THostSample, TFieldCheck>> = {
  ts: count,
  cpuCores: gauge,
  cpuCount: (value) => count(value) && (value as number) >= 1,
  memoryTotalBytes: gauge,
  memoryAvailableBytes: gauge,
  memoryUsedBytes: gauge,
  load1: gauge,
  load5: gauge,
  load15: gauge,
  diskTotalBytes: gauge,
  diskFreeBytes: gauge,
  containers: count,
};
const CONTAINER_SAMPLE_FIELD_COUNT = Object.keys(CONTAINER_SAMPLE_FIELDS).length;
const HOST_SAMPLE_FIELD_COUNT = Object.keys(HOST_SAMPLE_FIELDS).length;

/** An object with exactly these fields, each passing its check. */
function matchesFields(
  value: unknown,
  fields: Readonly<Record<string, TFieldCheck>>,
  fieldCount: number,
): boolean {
  if (!isObject(value)) return false;
  let seen = 0;
  for (const key in value) {
    if (!Object.hasOwn(fields, key) || !(fields[key] as TFieldCheck)(value[key])) return false;
    seen++;
  }
  return seen === fieldCount;
}

const containerSample = (sample: unknown) =>
  matchesFields(sample, CONTAINER_SAMPLE_FIELDS, CONTAINER_SAMPLE_FIELD_COUNT);
const hostSample = (sample: unknown) => matchesFields(sample, HOST_SAMPLE_FIELDS, HOST_SAMPLE_FIELD_COUNT);

/**
 * `json` (a parsed message) as a metrics frame when ZMetricsFrame would accept
 * it unchanged; null when zod must decide (it may still accept, e.g. by
 * stripping an unknown key, or refuse and say why).
 */
export function checkMetricsFrame(json: TJsonObject): TMetricsFrame | null {
  if (
    json.type !== "metrics" ||
    !hasExactly(json, FRAME_KEYS) ||
    !id(json.batchId, WIRE_ID) ||
    !count(json.droppedSamples) ||
    !(json.host === null || hostSample(json.host))
  )
    return null;
  const containers = json.containers;
  if (!Array.isArray(containers) || containers.length > MAX_SAMPLES_PER_BATCH) return null;
  for (const sample of containers) if (!containerSample(sample)) return null;
  return json as unknown as TMetricsFrame;
}
