// Writes batches of samples with one COPY per table per batch
// (db/sample-copy.ts), on connections of its own beside the Prisma client's
// pool. Duplicate (subject, ts) keys are skipped: an agent resending after a
// reconnect is normal, not an error.
import type { PrismaClient } from "../../db/client";
import { databaseUrlOf } from "../../db/client";
import { createSampleCopyPool, type SampleCopyPool } from "../../db/sample-copy";
import {
  CONTAINER_SAMPLE_TABLE,
  containerSampleCopy,
  HOST_SAMPLE_TABLE,
  hostSampleCopy,
  type QueuedContainerSample,
  type QueuedHostSample,
} from "./sample-rows";

export interface SampleWriter {
  /** Rows newly stored (duplicates already stored are not counted). */
  writeContainerSamples(rows: readonly QueuedContainerSample[]): Promise<number>;
  writeHostSamples(rows: readonly QueuedHostSample[]): Promise<number>;
  /** Closes its connections; a later write opens new ones. */
  close(): Promise<void>;
}

export interface SampleWriterOptions {
  /** A client of `createPrismaClient`/`getDb`: the writer connects to the same database. */
  db: PrismaClient;
  /** Connections at most (one per concurrent batch). */
  connections: number;
  onIdleError?(error: Error): void;
}

export function createSampleWriter(options: SampleWriterOptions): SampleWriter {
  let pool: SampleCopyPool | null = null;
  const copier = (): SampleCopyPool => {
    if (pool) return pool;
    const databaseUrl = databaseUrlOf(options.db);
    if (!databaseUrl) throw new Error("the sample writer needs a Prisma client made by createPrismaClient");
    pool = createSampleCopyPool({
      databaseUrl,
      max: options.connections,
      ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    });
    return pool;
  };
  return {
    async writeContainerSamples(rows) {
      if (rows.length === 0) return 0;
      return copier().copyRows(CONTAINER_SAMPLE_TABLE, containerSampleCopy(rows).data);
    },
    async writeHostSamples(rows) {
      if (rows.length === 0) return 0;
      return copier().copyRows(HOST_SAMPLE_TABLE, hostSampleCopy(rows).data);
    },
    async close() {
      await pool?.end();
    },
  };
}

/** One batch on a connection of its own, closed afterwards (tests; the service keeps a writer). */
export async function insertContainerSamples(
  db: PrismaClient,
  rows: readonly QueuedContainerSample[],
): Promise<number> {
  const writer = createSampleWriter({ db, connections: 1 });
  try {
    return await writer.writeContainerSamples(rows);
  } finally {
    await writer.close();
  }
}

/** One batch on a connection of its own, closed afterwards (tests; the service keeps a writer). */
export async function insertHostSamples(
  db: PrismaClient,
  rows: readonly QueuedHostSample[],
): Promise<number> {
  const writer = createSampleWriter({ db, connections: 1 });
  try {
    return await writer.writeHostSamples(rows);
  } finally {
    await writer.close();
  }
}
