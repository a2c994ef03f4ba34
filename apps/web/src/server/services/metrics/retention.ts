// Deletes what is past retention: raw samples by dropping whole daily
// partitions (no row-by-row DELETE on the biggest tables), rollups by bucket
// (they are small and indexed on bucket).
import type { PrismaClient } from "../../db/client";
import type { MetricsEnv } from "./metrics-options";
import { dropExpiredSamplePartitions } from "./partitions";

export interface RetentionReport {
  droppedPartitions: string[];
  minuteRowsDeleted: number;
  hourRowsDeleted: number;
}

export async function applyRetention(options: {
  db: PrismaClient;
  env: MetricsEnv;
  now: number;
}): Promise<RetentionReport> {
  const { db, env, now } = options;
  const droppedPartitions = await dropExpiredSamplePartitions(db, now, env.FLEET_RETENTION_RAW);
  const minuteCutoff = new Date(now - env.FLEET_RETENTION_MINUTE);
  const hourCutoff = new Date(now - env.FLEET_RETENTION_HOUR);
  const containerMinutes = await db.containerSampleMinute.deleteMany({
    where: { bucket: { lt: minuteCutoff } },
  });
  const hostMinutes = await db.hostSampleMinute.deleteMany({ where: { bucket: { lt: minuteCutoff } } });
  const containerHours = await db.containerSampleHour.deleteMany({ where: { bucket: { lt: hourCutoff } } });
  const hostHours = await db.hostSampleHour.deleteMany({ where: { bucket: { lt: hourCutoff } } });
  return {
    droppedPartitions,
    minuteRowsDeleted: containerMinutes.count + hostMinutes.count,
    hourRowsDeleted: containerHours.count + hostHours.count,
  };
}
