// Daily partitions of the raw sample tables. The SQL functions live in the
// init migration; this module decides which days and when. Days are UTC, as
// the partition bounds are.
import type { PrismaClient } from "../../db/client";

export const RAW_SAMPLE_TABLES = ["container_samples", "host_samples"] as const;

const DAY_MS = 24 * 60 * 60_000;

/** `YYYY-MM-DD` of the UTC day holding `ms`. */
export function utcDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Yesterday (late samples) through the day after tomorrow (agent clocks running ahead, a missed daily run). */
export function partitionWindow(now: number): { fromDay: string; days: number } {
  return { fromDay: utcDay(now - DAY_MS), days: 4 };
}

/**
 * Partitions wholly older than `now - retentionMs` go: the first day kept is
 * the one holding the cutoff, so raw samples live between `retention` and
 * `retention + 1 day`.
 */
export function firstRetainedDay(now: number, retentionMs: number): string {
  return utcDay(now - retentionMs);
}

/** Creates the missing partitions of the window around `now`; returns their names. */
export async function ensureSamplePartitions(db: PrismaClient, now: number): Promise<string[]> {
  const { fromDay, days } = partitionWindow(now);
  const created: string[] = [];
  for (const table of RAW_SAMPLE_TABLES) {
    const rows = await db.$queryRaw<{ name: string }[]>`
      SELECT name FROM fleet_ensure_daily_partitions(${table}, ${fromDay}::date, ${days}::int) AS name`;
    created.push(...rows.map((row) => row.name));
  }
  return created;
}

/** Drops the partitions (and DEFAULT-partition rows) past raw retention; returns the partitions dropped. */
export async function dropExpiredSamplePartitions(
  db: PrismaClient,
  now: number,
  retentionMs: number,
): Promise<string[]> {
  const beforeDay = firstRetainedDay(now, retentionMs);
  const dropped: string[] = [];
  for (const table of RAW_SAMPLE_TABLES) {
    const rows = await db.$queryRaw<{ name: string }[]>`
      SELECT name FROM fleet_drop_daily_partitions(${table}, ${beforeDay}::date) AS name`;
    dropped.push(...rows.map((row) => row.name));
  }
  return dropped;
}
