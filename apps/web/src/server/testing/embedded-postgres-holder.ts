/**
 * A process that stands in for a central in tests that SIGKILL one: it starts
 * the embedded server on a data directory, commits rows to a table, prints
 * one JSON line `{"pid", "postgresPid", "url"}` and then waits to be killed.
 *
 *   node --import tsx embedded-postgres-holder.ts DATA_DIR TABLE ROWS
 */
import pg from "pg";
import { startEmbeddedPostgres } from "../db/embedded-postgres";
import { inheritedEnv } from "../env";

const [dataDir, table, rows] = process.argv.slice(2);
if (!dataDir || !table || !rows) {
  process.stderr.write("usage: embedded-postgres-holder.ts DATA_DIR TABLE ROWS\n");
  process.exit(2);
}

const server = await startEmbeddedPostgres({ dataDir, inheritedEnv: inheritedEnv() });
const client = new pg.Client({ connectionString: server.url });
await client.connect();
await client.query(`CREATE TABLE IF NOT EXISTS "${table}" (n integer PRIMARY KEY)`);
await client.query(`INSERT INTO "${table}" SELECT generate_series(1, $1::integer)`, [Number(rows)]);
process.stdout.write(`${JSON.stringify({ pid: process.pid, postgresPid: server.pid, url: server.url })}\n`);
// Held open, as a central's pool would be, until the test kills this process.
setInterval(() => {}, 60_000);
