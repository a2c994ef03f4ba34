// Runs the rollups (rollup-sql.ts) over closed buckets behind watermarks.
//
// A minute is closed once its end is `graceMs` in the past (samples of a
// minute arrive up to one agent interval plus the write queue's delay after
// it). The minute watermark is the end of the newest rolled minute; the hour
// watermark follows the minute watermark. Both are read back from the rollup
// tables at `init()`, so a restart neither skips nor repeats much.
//
// Samples written for buckets behind the watermark (an agent's spool sent
// after a reconnect) mark their bucket dirty and it is rolled again on the
// next run; that in turn marks its hour dirty. The mark is taken after the
// INSERT commits and compares against the range a running rollup has already
// claimed, so a sample committed while a rollup runs is either seen by it or
// marked for the next one.

import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { MetricsLogger } from "./metrics-options";
import {
  CONTAINER_HOUR_ROLLUP,
  CONTAINER_MINUTE_ROLLUP,
  HOST_HOUR_ROLLUP,
  HOST_MINUTE_ROLLUP,
} from "./rollup-sql";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
// Catching up after downtime: one statement covers at most this much.
const MINUTE_CHUNK_MS = HOUR_MS;
const HOUR_CHUNK_MS = 24 * HOUR_MS;
// After a restart the newest rolled minutes are rolled again: samples may have
// arrived for them after the last run before the stop.
const RESTART_OVERLAP_MS = 10 * MINUTE_MS;

export function floorTo(ms: number, stepMs: number): number {
  return Math.floor(ms / stepMs) * stepMs;
}

/** Contiguous runs of bucket starts (sorted) as [from, to) ranges. */
export function contiguousRanges(buckets: Iterable<number>, stepMs: number): [number, number][] {
  const sorted = [...new Set(buckets)].sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const bucket of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === bucket) last[1] = bucket + stepMs;
    else ranges.push([bucket, bucket + stepMs]);
  }
  return ranges;
}

type Subject = "container" | "host";

interface Track {
  /** End (exclusive) of the rolled buckets; null until known. */
  watermark: number | null;
  /** The end of the range a running statement covers. */
  claimed: number | null;
}

interface MinuteTrack extends Track {
  /** Bucket start → hosts that wrote late samples into it. */
  dirty: Map<number, Set<string>>;
}

interface HourTrack extends Track {
  dirty: Set<number>;
}

export interface RollupRunReport {
  containerMinuteRows: number;
  hostMinuteRows: number;
  containerHourRows: number;
  hostHourRows: number;
}

export interface RollupWatermarks {
  containerMinute: number | null;
  hostMinute: number | null;
  containerHour: number | null;
  hostHour: number | null;
}

export interface SampleRollupsOptions {
  db: PrismaClient;
  clock: Clock;
  log: MetricsLogger;
  /** How long after its end a minute counts as closed. */
  graceMs: number;
  /** How far back a first run (empty rollup tables) starts: the raw tables hold no more than this. */
  initialLookbackMs: number;
}

function isoString(ms: number): string {
  return new Date(ms).toISOString();
}

export class SampleRollups {
  private readonly minute: Record<Subject, MinuteTrack> = {
    container: { watermark: null, claimed: null, dirty: new Map() },
    host: { watermark: null, claimed: null, dirty: new Map() },
  };
  private readonly hour: Record<Subject, HourTrack> = {
    container: { watermark: null, claimed: null, dirty: new Set() },
    host: { watermark: null, claimed: null, dirty: new Set() },
  };
  private initialized = false;
  private running: Promise<RollupRunReport> | null = null;

  constructor(private readonly options: SampleRollupsOptions) {}

  /** Reads the watermarks back from the rollup tables. */
  async init(): Promise<void> {
    const { db, clock, initialLookbackMs } = this.options;
    const [row] = await db.$queryRaw<
      {
        container_minute: Date | null;
        host_minute: Date | null;
        container_hour: Date | null;
        host_hour: Date | null;
      }[]
    >`SELECT
        (SELECT max(bucket) FROM "container_samples_minute") AS container_minute,
        (SELECT max(bucket) FROM "host_samples_minute") AS host_minute,
        (SELECT max(bucket) FROM "container_samples_hour") AS container_hour,
        (SELECT max(bucket) FROM "host_samples_hour") AS host_hour`;
    const start = floorTo(clock.now() - initialLookbackMs, MINUTE_MS);
    const fromMinute = (value: Date | null | undefined) =>
      value ? value.getTime() + MINUTE_MS - RESTART_OVERLAP_MS : start;
    this.minute.container.watermark = fromMinute(row?.container_minute);
    this.minute.host.watermark = fromMinute(row?.host_minute);
    this.hour.container.watermark = row?.container_hour ? row.container_hour.getTime() + HOUR_MS : null;
    this.hour.host.watermark = row?.host_hour ? row.host_hour.getTime() + HOUR_MS : null;
    this.initialized = true;
  }

  watermarks(): RollupWatermarks {
    return {
      containerMinute: this.minute.container.watermark,
      hostMinute: this.minute.host.watermark,
      containerHour: this.hour.container.watermark,
      hostHour: this.hour.host.watermark,
    };
  }

  /** Called for every sample once its INSERT committed. */
  noteWritten(subject: Subject, hostId: string, ts: number): void {
    const track = this.minute[subject];
    // Before init() nothing is known: every bucket may be behind the watermark-to-be.
    const covered = this.initialized ? Math.max(track.watermark ?? -1, track.claimed ?? -1) : Infinity;
    if (ts >= covered) return;
    const bucket = floorTo(ts, MINUTE_MS);
    // The next minute too: its first counter increase is measured from this sample.
    for (const dirtyBucket of [bucket, bucket + MINUTE_MS]) {
      let hosts = track.dirty.get(dirtyBucket);
      if (!hosts) {
        hosts = new Set();
        track.dirty.set(dirtyBucket, hosts);
      }
      hosts.add(hostId);
    }
  }

  /** One pass over everything due. Concurrent calls share the pass in progress. */
  run(): Promise<RollupRunReport> {
    if (!this.running) {
      this.running = this.runOnce().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async runOnce(): Promise<RollupRunReport> {
    if (!this.initialized) await this.init();
    const closedUntil = floorTo(this.options.clock.now() - this.options.graceMs, MINUTE_MS);
    const hostIds = (await this.options.db.host.findMany({ select: { id: true } })).map((host) => host.id);
    const containerMinuteRows = await this.rollMinutes("container", hostIds, closedUntil);
    const hostMinuteRows = await this.rollMinutes("host", hostIds, closedUntil);
    const containerHourRows = await this.rollHours("container");
    const hostHourRows = await this.rollHours("host");
    return { containerMinuteRows, hostMinuteRows, containerHourRows, hostHourRows };
  }

  private async rollMinutes(subject: Subject, hostIds: string[], closedUntil: number): Promise<number> {
    const track = this.minute[subject];
    const sql = subject === "container" ? CONTAINER_MINUTE_ROLLUP : HOST_MINUTE_ROLLUP;
    let rows = 0;
    let from = track.watermark ?? closedUntil;
    while (from < closedUntil) {
      const to = Math.min(from + MINUTE_CHUNK_MS, closedUntil);
      track.claimed = to;
      try {
        rows += await this.options.db.$executeRawUnsafe(sql, hostIds, isoString(from), isoString(to));
      } finally {
        track.claimed = null;
      }
      track.watermark = to;
      this.markHoursDirty(subject, from, to);
      from = to;
    }

    // Late samples: buckets behind the watermark roll again for the hosts that wrote into them.
    const dirty = track.dirty;
    track.dirty = new Map();
    const watermark = track.watermark ?? closedUntil;
    const late = [...dirty.entries()].filter(([bucket]) => bucket < watermark);
    for (const [rangeFrom, rangeTo] of contiguousRanges(
      late.map(([bucket]) => bucket),
      MINUTE_MS,
    )) {
      const hosts = new Set<string>();
      for (const [bucket, bucketHosts] of late) {
        if (bucket >= rangeFrom && bucket < rangeTo) for (const host of bucketHosts) hosts.add(host);
      }
      try {
        rows += await this.options.db.$executeRawUnsafe(
          sql,
          [...hosts],
          isoString(rangeFrom),
          isoString(rangeTo),
        );
      } catch (error) {
        for (const [bucket, bucketHosts] of late) {
          if (bucket >= rangeFrom && bucket < rangeTo) track.dirty.set(bucket, bucketHosts);
        }
        throw error;
      }
      this.markHoursDirty(subject, rangeFrom, rangeTo);
    }
    return rows;
  }

  /** Hours already rolled whose minutes in [from, to) were just rolled again. */
  private markHoursDirty(subject: Subject, from: number, to: number): void {
    const track = this.hour[subject];
    const covered = Math.max(track.watermark ?? -1, track.claimed ?? -1);
    for (let hour = floorTo(from, HOUR_MS); hour < to && hour < covered; hour += HOUR_MS)
      track.dirty.add(hour);
  }

  private async rollHours(subject: Subject): Promise<number> {
    const track = this.hour[subject];
    const minuteWatermark = this.minute[subject].watermark;
    if (minuteWatermark === null) return 0;
    const closedUntil = floorTo(minuteWatermark, HOUR_MS);
    const sql = subject === "container" ? CONTAINER_HOUR_ROLLUP : HOST_HOUR_ROLLUP;
    if (track.watermark === null) {
      const table = subject === "container" ? "container_samples_minute" : "host_samples_minute";
      const [row] = await this.options.db.$queryRawUnsafe<{ first: Date | null }[]>(
        `SELECT min(bucket) AS first FROM "${table}"`,
      );
      track.watermark = row?.first ? floorTo(row.first.getTime(), HOUR_MS) : closedUntil;
    }
    let rows = 0;
    let from = track.watermark;
    while (from < closedUntil) {
      const to = Math.min(from + HOUR_CHUNK_MS, closedUntil);
      track.claimed = to;
      try {
        rows += await this.options.db.$executeRawUnsafe(sql, isoString(from), isoString(to));
      } finally {
        track.claimed = null;
      }
      track.watermark = to;
      from = to;
    }
    const dirty = [...track.dirty].filter((hour) => hour < (track.watermark ?? closedUntil));
    track.dirty = new Set();
    for (const [rangeFrom, rangeTo] of contiguousRanges(dirty, HOUR_MS)) {
      try {
        rows += await this.options.db.$executeRawUnsafe(sql, isoString(rangeFrom), isoString(rangeTo));
      } catch (error) {
        for (let hour = rangeFrom; hour < rangeTo; hour += HOUR_MS) track.dirty.add(hour);
        throw error;
      }
    }
    return rows;
  }
}
