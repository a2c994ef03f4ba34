// Encodes samples for COPY as frames arrive and writes batches of them with
// one COPY per table per batch (db/sample-copy.ts), on connections of its own
// beside the Prisma client's pool. Duplicate (subject, ts) keys are skipped:
// an agent resending after a reconnect is normal, not an error.
import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { PrismaClient } from "../../db/client";
import { databaseUrlOf } from "../../db/client";
import {
  CopyRowEncoder,
  copyBinaryData,
  createSampleCopyPool,
  type SampleCopyPool,
} from "../../db/sample-copy";
import {
  CONTAINER_SAMPLE_TABLE,
  type EncodedSamples,
  encodeContainerSamples,
  encodeHostSample,
  HOST_SAMPLE_TABLE,
  type QueuedContainerSample,
  type QueuedHostSample,
} from "./sample-rows";

export interface SampleWriter {
  /** A frame's accepted samples, encoded (nothing for none): what the write queue holds. */
  encode(hostId: string, containers: readonly TContainerSample[], host: THostSample | null): EncodedSamples[];
  /** Writes a batch; resolves to the rows newly stored (duplicates already stored are not counted). */
  write(batch: readonly EncodedSamples[]): Promise<number>;
  /** Opens its connections ahead of the first batch (see SampleCopyPool.connect). */
  connect(): Promise<void>;
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
  const encoder = new CopyRowEncoder();
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
    encode(hostId, containers, host) {
      const encoded: EncodedSamples[] = [];
      if (containers.length > 0) encoded.push(encodeContainerSamples(encoder, hostId, containers));
      if (host) encoded.push(encodeHostSample(encoder, hostId, host));
      return encoded;
    },
    async write(batch) {
      const containers: Buffer[] = [];
      const hosts: Buffer[] = [];
      for (const entry of batch) (entry.kind === "container" ? containers : hosts).push(entry.data);
      let inserted = 0;
      if (containers.length > 0) {
        inserted += await copier().copyRows(CONTAINER_SAMPLE_TABLE, copyBinaryData(containers));
      }
      if (hosts.length > 0) inserted += await copier().copyRows(HOST_SAMPLE_TABLE, copyBinaryData(hosts));
      return inserted;
    },
    connect: () => copier().connect(),
    async close() {
      await pool?.end();
    },
  };
}

async function writeOnce(
  db: PrismaClient,
  encode: (writer: SampleWriter) => EncodedSamples[],
): Promise<number> {
  const writer = createSampleWriter({ db, connections: 1 });
  try {
    return await writer.write(encode(writer));
  } finally {
    await writer.close();
  }
}

/** One batch on a connection of its own, closed afterwards (tests; the service keeps a writer). */
export function insertContainerSamples(
  db: PrismaClient,
  rows: readonly QueuedContainerSample[],
): Promise<number> {
  return writeOnce(db, (writer) => rows.flatMap((row) => writer.encode(row.hostId, [row.sample], null)));
}

/** One batch on a connection of its own, closed afterwards (tests; the service keeps a writer). */
export function insertHostSamples(db: PrismaClient, rows: readonly QueuedHostSample[]): Promise<number> {
  return writeOnce(db, (writer) => rows.flatMap((row) => writer.encode(row.hostId, [], row.sample)));
}
