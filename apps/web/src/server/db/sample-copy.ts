// COPY … FROM STDIN into the raw sample tables, on a small pg pool of its own
// beside the Prisma client. COPY is the bulk path Postgres offers: no SQL to
// parse per row, rows written a page at a time with one WAL record each (an
// INSERT writes one per row), and no speculative insertion as ON CONFLICT
// needs. Prisma cannot stream COPY, hence the plain `pg` connections.
//
// COPY has no ON CONFLICT, and a sample already stored is normal (an agent
// resends its spool after a reconnect). So each batch first goes straight into
// the table; should any row collide with a stored one (or with another row of
// the batch), Postgres refuses the whole COPY (nothing of it stays) and the
// batch goes the careful way instead: COPY into a temporary table, then
// INSERT … SELECT … ORDER BY key ON CONFLICT DO NOTHING from it, in one
// transaction. Collisions are rare (an agent resending what was stored), so
// nearly every batch is written once; the careful way costs one more pass
// over a batch that has one.
//
// Rows go out in COPY's binary format (`CopyRowEncoder`): every field is its
// length and then its bytes, so text needs no escaping at all, and neither
// side turns numbers and times into text and back (the text format cost more
// than twice the CPU here, and the central's event loop is what limits
// ingest). Rows go in the order received, unsorted: batches overlap only when
// an agent resends, and then the careful way below takes keys in order.
//
// May import: pg, pg-copy-streams.
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

/** A table COPY writes into: its columns in the order of each line's fields, and its primary key. */
export interface CopyTable {
  table: string;
  columns: readonly string[];
  key: readonly string[];
}

export interface SampleCopyPool {
  /**
   * Writes `data` (what `CopyBinaryEncoder.finish()` gave, rows holding
   * `CopyTable.columns` in order) into the table; resolves to the rows newly
   * stored (rows whose key is already stored are skipped, not counted).
   */
  copyRows(target: CopyTable, data: Buffer): Promise<number>;
  /**
   * Opens the connections now. A central starting while its agents reconnect meets a
   * flood of frames, and a connection's handshake needs several turns of an event loop
   * that is busy with them: opened first, the first batches go out at once.
   */
  connect(): Promise<void>;
  /** Closes the connections (a later `copyRows` opens new ones). */
  end(): Promise<void>;
}

export interface SampleCopyPoolOptions {
  databaseUrl: string;
  /** Connections at most: one per concurrent batch. */
  max: number;
  /** An idle connection broke (the database restarted): the next batch simply opens another. */
  onIdleError?(error: Error): void;
}

/**
 * SQLSTATEs that send a batch the careful way: unique_violation (a key already
 * stored, or twice in the batch) and deadlock_detected (two batches holding
 * the same keys in different orders, as resends can; the careful way takes
 * them in key order).
 */
const CAREFUL_WAY_CODES = new Set(["23505", "40P01"]);
/** The connections' name in pg_stat_activity. */
export const SAMPLE_COPY_APPLICATION_NAME = "fleet-samples";

const TWO_32 = 2 ** 32;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;
/** 2000-01-01T00:00:00Z, where Postgres counts timestamps from (in microseconds). */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]); // flags 0, no header extension
const TRAILER = Buffer.from([0xff, 0xff]); // a field count of -1

/** Bytes a field of each kind takes (its length word included). */
export const COPY_FIELD_BYTES = { int4: 8, int8: 12, float8: 12, timestamptz: 12, null: 4 } as const;
/** Bytes a row's field count takes. */
export const COPY_ROW_BYTES = 2;
/** Bytes a text field takes at most: UTF-8 needs at most 3 bytes per UTF-16 unit. */
export const copyTextBytes = (value: string) => 4 + value.length * 3;

/**
 * Rows in COPY's binary format (per row its field count, then each field as
 * a length (-1: null) and big-endian bytes), written into pieces: `begin`
 * reserves room for a piece, `end` hands it over. Pieces are carved out of
 * shared 1 MiB slabs, so a piece (one metrics frame's rows) costs no
 * allocation of its own; `copyBinaryData` puts the header and trailer around
 * pieces. Values are written as given: deciding them (rounding, clamping) is
 * the caller's.
 */
export class CopyRowEncoder {
  private slab: Buffer;
  // Big-endian writes through a DataView compile to plain stores; Buffer's
  // write*BE methods check their arguments on every call (a row has 19 fields).
  private view: DataView;
  private offset = 0;
  private start = 0;
  private limit = 0;

  constructor(private readonly slabBytes = 1 << 20) {
    this.slab = Buffer.allocUnsafe(slabBytes);
    this.view = new DataView(this.slab.buffer, this.slab.byteOffset, this.slab.byteLength);
  }

  /** Starts a piece of at most `maxBytes` (sum the `COPY_*_BYTES` of its rows and fields). */
  begin(maxBytes: number): void {
    if (this.offset + maxBytes > this.slab.length) {
      // The old slab lives on as long as pieces of it wait to be written.
      this.slab = Buffer.allocUnsafe(Math.max(this.slabBytes, maxBytes));
      this.view = new DataView(this.slab.buffer, this.slab.byteOffset, this.slab.byteLength);
      this.offset = 0;
    }
    this.start = this.offset;
    this.limit = this.offset + maxBytes;
  }

  /** The piece written since `begin`. */
  end(): Buffer {
    const piece = this.slab.subarray(this.start, this.offset);
    this.start = this.offset;
    this.limit = this.offset;
    return piece;
  }

  private room(bytes: number): void {
    if (this.offset + bytes > this.limit) {
      throw new Error(`a COPY piece outgrew the ${this.limit - this.start} bytes reserved for it`);
    }
  }

  row(fields: number): void {
    this.room(COPY_ROW_BYTES);
    this.view.setInt16(this.offset, fields);
    this.offset += 2;
  }

  null(): void {
    this.room(COPY_FIELD_BYTES.null);
    this.view.setInt32(this.offset, -1);
    this.offset += 4;
  }

  text(value: string): void {
    this.room(copyTextBytes(value));
    const start = this.offset + 4;
    let bytes = 0;
    // Ids are short and ASCII: byte by byte beats a call into the encoder; anything else goes to it.
    if (value.length <= 64) {
      for (; bytes < value.length; bytes++) {
        const code = value.charCodeAt(bytes);
        if (code >= 0x80) break;
        this.slab[start + bytes] = code;
      }
    }
    if (bytes < value.length) bytes = this.slab.write(value, start, "utf8");
    this.view.setInt32(this.offset, bytes);
    this.offset = start + bytes;
  }

  int4(value: number): void {
    this.room(COPY_FIELD_BYTES.int4);
    this.view.setInt32(this.offset, 4);
    this.view.setInt32(this.offset + 4, value);
    this.offset += 8;
  }

  /** An integer: a number within ±2^53, or a bigint within int8. */
  int8(value: number | bigint): void {
    this.room(COPY_FIELD_BYTES.int8);
    this.view.setInt32(this.offset, 8);
    this.offset += 4;
    this.writeInt64(value);
  }

  float8(value: number): void {
    this.room(COPY_FIELD_BYTES.float8);
    this.view.setInt32(this.offset, 8);
    this.view.setFloat64(this.offset + 4, value);
    this.offset += 12;
  }

  /** Epoch milliseconds (an integer) as timestamptz: microseconds since 2000-01-01 UTC. */
  timestamptz(ms: number): void {
    this.room(COPY_FIELD_BYTES.timestamptz);
    this.view.setInt32(this.offset, 8);
    this.offset += 4;
    const micros = (ms - POSTGRES_EPOCH_MS) * 1000;
    this.writeInt64(Number.isSafeInteger(micros) ? micros : BigInt(ms - POSTGRES_EPOCH_MS) * 1000n);
  }

  private writeInt64(value: number | bigint): void {
    if (typeof value === "bigint") {
      const clamped = value < INT8_MIN ? INT8_MIN : value > INT8_MAX ? INT8_MAX : value;
      this.view.setBigInt64(this.offset, clamped);
    } else {
      // Two 32-bit halves: exact for every safe integer, and no bigint per value.
      const high = Math.floor(value / TWO_32);
      this.view.setInt32(this.offset, high);
      this.view.setUint32(this.offset + 4, value - high * TWO_32);
    }
    this.offset += 8;
  }
}

/** One COPY's data: the header, the pieces' rows in order, the trailer. */
export function copyBinaryData(pieces: readonly Buffer[]): Buffer {
  return Buffer.concat([HEADER, ...pieces, TRAILER]);
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function copySql(table: string, columns: readonly string[]): string {
  return `COPY ${quote(table)} (${columns.map(quote).join(", ")}) FROM STDIN (FORMAT binary)`;
}

function stagingName(table: string): string {
  return `${table}_incoming`;
}

/** Streams `data` through one COPY statement; resolves to the rows it wrote. */
function copyIn(client: pg.PoolClient, sql: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on("error", reject);
    // "finish" comes once the server has answered (ReadyForQuery), i.e. the rows are written.
    stream.on("finish", () => resolve(stream.rowCount));
    stream.end(data);
  });
}

/** The careful way: through a temporary table, duplicates skipped by ON CONFLICT, in one transaction. */
async function copyViaStaging(client: pg.PoolClient, target: CopyTable, data: Buffer): Promise<number> {
  const staging = stagingName(target.table);
  const columns = target.columns.map(quote).join(", ");
  await client.query("BEGIN");
  try {
    // Per connection, kept across batches (emptied at each commit): no catalog churn per batch.
    await client.query(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${quote(staging)} (LIKE ${quote(target.table)}) ON COMMIT DELETE ROWS`,
    );
    await copyIn(client, copySql(staging, target.columns), data);
    // In key order, so batches going this way lock rows in one order; of a key the batch
    // holds twice, the row received first (ctid: the order COPY appended them) is kept.
    const inserted = await client.query(
      `INSERT INTO ${quote(target.table)} (${columns}) SELECT ${columns} FROM ${quote(staging)} ` +
        `ORDER BY ${target.key.map(quote).join(", ")}, ctid ON CONFLICT DO NOTHING`,
    );
    await client.query("COMMIT");
    return inserted.rowCount ?? 0;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function needsCarefulWay(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && CAREFUL_WAY_CODES.has(code);
}

export function createSampleCopyPool(options: SampleCopyPoolOptions): SampleCopyPool {
  let pool: pg.Pool | null = null;

  function currentPool(): pg.Pool {
    if (pool) return pool;
    const created = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.max,
      application_name: SAMPLE_COPY_APPLICATION_NAME,
      // As the Prisma client's: a database host that drops packets fails the batch (it is retried).
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      // Idle connections do not keep a process that has nothing else to do alive.
      allowExitOnIdle: true,
    });
    // Without a listener a connection that breaks while idle would crash the process.
    created.on("error", (error) => options.onIdleError?.(error));
    pool = created;
    return created;
  }

  return {
    async copyRows(target, data) {
      const client = await currentPool().connect();
      // A connection that breaks mid-batch reports through the query; this only keeps the
      // client's own "error" event from going unheard (which would crash the process).
      const ignore = () => undefined;
      client.on("error", ignore);
      let broken: Error | undefined;
      try {
        try {
          return await copyIn(client, copySql(target.table, target.columns), data);
        } catch (error) {
          if (!needsCarefulWay(error)) throw error;
        }
        return await copyViaStaging(client, target, data);
      } catch (error) {
        // Whatever failed, this connection is not trusted again: the pool opens a new one.
        broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.off("error", ignore);
        client.release(broken);
      }
    },
    async connect() {
      const opening = currentPool();
      const clients = await Promise.all(Array.from({ length: options.max }, () => opening.connect()));
      for (const client of clients) client.release();
    },
    async end() {
      const ending = pool;
      pool = null;
      await ending?.end();
    },
  };
}
