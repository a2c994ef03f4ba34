// Writes batches of samples with one statement per table per batch. Duplicate
// (subject, ts) keys are skipped by the primary key: an agent resending after
// a reconnect is normal, not an error.
import type { PrismaClient } from "../../db/client";
import {
  CONTAINER_SAMPLE_COLUMNS,
  containerSampleColumns,
  HOST_SAMPLE_COLUMNS,
  hostSampleColumns,
  type QueuedContainerSample,
  type QueuedHostSample,
  unnestInsertSql,
} from "./sample-rows";

const INSERT_CONTAINER_SAMPLES = unnestInsertSql("container_samples", CONTAINER_SAMPLE_COLUMNS);
const INSERT_HOST_SAMPLES = unnestInsertSql("host_samples", HOST_SAMPLE_COLUMNS);

/** Rows inserted (duplicates already stored are not counted). */
export async function insertContainerSamples(
  db: PrismaClient,
  rows: readonly QueuedContainerSample[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const { columns } = containerSampleColumns(rows);
  return db.$executeRawUnsafe(INSERT_CONTAINER_SAMPLES, ...columns);
}

export async function insertHostSamples(
  db: PrismaClient,
  rows: readonly QueuedHostSample[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const { columns } = hostSampleColumns(rows);
  return db.$executeRawUnsafe(INSERT_HOST_SAMPLES, ...columns);
}
