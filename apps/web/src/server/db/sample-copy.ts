// COPY … FROM STDIN into the raw sample tables, on a small pg pool of its own
// beside the Prisma client. COPY is the bulk path Postgres offers: no SQL to
// parse per row, rows written a page at a time with one WAL record each (an
// INSERT writes one per row), and no speculative insertion as ON CONFLICT
// needs. Prisma cannot stream COPY, hence the plain `pg` connections.
//
// COPY has no ON CONFLICT, and a sample already stored is normal (an agent
// resends its spool after a reconnect). So each batch first goes straight into
// the table; should any row collide with a stored one, Postgres refuses the
// whole COPY (nothing of it stays) and the batch goes the careful way instead:
// COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING
// from it, in one transaction. Collisions are rare, so nearly every batch is
// written once; the careful way costs one more pass over a batch that has one.
//
// Rows go out in the text format: fields separated by tabs, `\N` for null, and
// backslash, tab, newline and carriage return escaped in text fields
// (`copyTextField`). Callers send each batch sorted by the primary key and
// without duplicate keys, so concurrent batches take row locks in one order.
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
   * Writes `lines` (COPY text format, each line ending in `\n`, holding
   * `CopyTable.columns` in order) into the table; resolves to the rows newly
   * stored (rows whose key is already stored are skipped, not counted).
   */
  copyRows(target: CopyTable, lines: string): Promise<number>;
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

/** SQLSTATE unique_violation: the batch holds a key already stored. */
const UNIQUE_VIOLATION = "23505";
/** The connections' name in pg_stat_activity. */
export const SAMPLE_COPY_APPLICATION_NAME = "fleet-samples";

const ESCAPED = /[\\\t\n\r]/;

/** A text field as COPY's text format reads it back unchanged. */
export function copyTextField(value: string): string {
  if (!ESCAPED.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (char) =>
    char === "\\" ? "\\\\" : char === "\t" ? "\\t" : char === "\n" ? "\\n" : "\\r",
  );
}

/** COPY's text-format null. */
export const COPY_NULL = "\\N";

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

function copySql(table: string, columns: readonly string[]): string {
  return `COPY ${quote(table)} (${columns.map(quote).join(", ")}) FROM STDIN`;
}

function stagingName(table: string): string {
  return `${table}_incoming`;
}

/** Streams `lines` through one COPY statement; resolves to the rows it wrote. */
function copyIn(client: pg.PoolClient, sql: string, lines: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on("error", reject);
    // "finish" comes once the server has answered (ReadyForQuery), i.e. the rows are written.
    stream.on("finish", () => resolve(stream.rowCount));
    stream.end(lines);
  });
}

/** The careful way: through a temporary table, duplicates skipped by ON CONFLICT, in one transaction. */
async function copyViaStaging(client: pg.PoolClient, target: CopyTable, lines: string): Promise<number> {
  const staging = stagingName(target.table);
  const columns = target.columns.map(quote).join(", ");
  await client.query("BEGIN");
  try {
    // Per connection, kept across batches (emptied at each commit): no catalog churn per batch.
    await client.query(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${quote(staging)} (LIKE ${quote(target.table)}) ON COMMIT DELETE ROWS`,
    );
    await copyIn(client, copySql(staging, target.columns), lines);
    // In key order, as the direct COPY would: concurrent batches lock rows in one order.
    const inserted = await client.query(
      `INSERT INTO ${quote(target.table)} (${columns}) SELECT ${columns} FROM ${quote(staging)} ` +
        `ORDER BY ${target.key.map(quote).join(", ")} ON CONFLICT DO NOTHING`,
    );
    await client.query("COMMIT");
    return inserted.rowCount ?? 0;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
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
    async copyRows(target, lines) {
      if (lines.length === 0) return 0;
      const client = await currentPool().connect();
      // A connection that breaks mid-batch reports through the query; this only keeps the
      // client's own "error" event from going unheard (which would crash the process).
      const ignore = () => undefined;
      client.on("error", ignore);
      let broken: Error | undefined;
      try {
        try {
          return await copyIn(client, copySql(target.table, target.columns), lines);
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
        }
        return await copyViaStaging(client, target, lines);
      } catch (error) {
        // Whatever failed, this connection is not trusted again: the pool opens a new one.
        broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.off("error", ignore);
        client.release(broken);
      }
    },
    async end() {
      const ending = pool;
      pool = null;
      await ending?.end();
    },
  };
}
