// Moves a database from the PGlite default (<FLEET_DATA_DIR>/pgdata) into the
// embedded PostgreSQL server (<FLEET_DATA_DIR>/postgres). PGlite is no
// dependency of Fleet any more, so the PGlite release the old default used
// is fetched with npm into a temporary directory for this one run.
//
// The schema comes from pg_dump (PGlite's wasm build, pglite-tools), so the
// new cluster has exactly the old one's tables, types, sequences and
// indexes. The rows are copied table by table as JSON text, in pages, inside
// one transaction with triggers and foreign keys held off (the order of
// tables does not matter then) — never through JavaScript numbers, so bigints
// and numerics arrive exactly. Sequences are set to where they were. The
// project's migrator then applies whatever migrations the old database had
// not seen. The old files are read from a copy and kept, renamed
// pgdata.converted; the new cluster is built under postgres.converting and
// renamed into place only when everything is in.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";
import type { TInheritedEnv } from "../env";
import { isAlive } from "./data-dir-state";
import { EmbeddedPostgresError, embeddedDataDir, startEmbeddedPostgres } from "./embedded-postgres";
import { migrate } from "./migrator";
import { isPgliteDataDir, pgliteDataDir } from "./pglite-data-dir";

// The PGlite that wrote the old default's files (what apps/web depended on),
// and the pg_dump build for it (it names 0.5.8 as its peer; 0.5.14 works).
export const PGLITE_PACKAGES = ["@electric-sql/pglite@0.5.14", "@electric-sql/pglite-tools@0.4.8"] as const;

const PAGE_ROWS = 2000;

// The little of PGlite this file uses.
interface PgliteQueryResult<T> {
  rows: T[];
}
interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<PgliteQueryResult<T>>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}
interface PgliteModules {
  open(dataDir: string): Promise<PgliteLike>;
  dumpSchema(db: PgliteLike): Promise<string>;
}

function runNpm(args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("npm", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolvePromise();
      else
        reject(new EmbeddedPostgresError(`npm ${args.join(" ")} failed (exit ${code}):\n${output.trim()}`));
    });
  });
}

// Installs PGlite into `dir` (its own package root) and loads it from there.
export async function fetchPglite(dir: string): Promise<PgliteModules> {
  await writeFile(join(dir, "package.json"), '{ "private": true }\n');
  await runNpm(
    [
      "install",
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--legacy-peer-deps",
      ...PGLITE_PACKAGES,
    ],
    dir,
  );
  // Both through one require, so pg_dump gets the PGlite class it expects.
  const load = createRequire(join(dir, "package.json"));
  const { PGlite } = load("@electric-sql/pglite") as {
    PGlite: { create(options: { dataDir: string }): Promise<PgliteLike> };
  };
  const { pgDump } = load("@electric-sql/pglite-tools/pg_dump") as {
    pgDump(options: { pg: PgliteLike; args: string[] }): Promise<{ text(): Promise<string> }>;
  };
  return {
    open: (dataDir) => PGlite.create({ dataDir }),
    async dumpSchema(db) {
      const file = await pgDump({ pg: db, args: ["--schema-only", "--no-owner", "--no-privileges"] });
      return file.text();
    },
  };
}

export interface ConvertPgliteOptions {
  fleetDataDir: string;
  inheritedEnv: TInheritedEnv;
  log?: (message: string) => void;
  // Loaded PGlite (tests pass one fetched once); fetched with npm otherwise.
  pglite?: PgliteModules;
}

export interface ConvertPgliteResult {
  dataDir: string;
  keptAs: string;
  rowsByTable: Record<string, number>;
  appliedMigrations: string[];
}

interface TableRef {
  schema: string;
  name: string;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const qualified = (table: TableRef) => `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;

export async function convertPgliteDataDir(options: ConvertPgliteOptions): Promise<ConvertPgliteResult> {
  const log = options.log ?? (() => {});
  const fleetDataDir = resolve(options.fleetDataDir);
  const oldDir = pgliteDataDir(fleetDataDir);
  const target = embeddedDataDir(fleetDataDir);
  if (!isPgliteDataDir(oldDir)) {
    throw new EmbeddedPostgresError(`nothing to convert: ${oldDir} is no PGlite database`);
  }
  if (existsSync(join(target, "PG_VERSION"))) {
    throw new EmbeddedPostgresError(
      `${target} already holds a database; move it away first if ${oldDir} is the one to keep`,
    );
  }
  // The old default's lock: a pid of a central that still runs it.
  const owner = Number.parseInt(await readFile(`${oldDir}.lock`, "utf8").catch(() => ""), 10);
  if (Number.isInteger(owner) && owner !== process.pid && (await isAlive(owner))) {
    throw new EmbeddedPostgresError(`${oldDir} is in use by process ${owner}: stop that central first`);
  }

  const scratch = await mkdtemp(join(tmpdir(), "fleet-pglite-convert-"));
  const building = `${target}.converting`;
  try {
    let pglite = options.pglite;
    if (!pglite) {
      log(`fetching ${PGLITE_PACKAGES.join(" and ")} with npm`);
      pglite = await fetchPglite(scratch);
    }
    // PGlite writes to the directory it opens; the original stays as it was.
    const copy = join(scratch, "pgdata");
    await cp(oldDir, copy, { recursive: true });
    const old = await pglite.open(copy);
    try {
      log("dumping the schema through PGlite (pg_dump)");
      const schema = await pglite.dumpSchema(old);
      await rm(building, { recursive: true, force: true });
      const server = await startEmbeddedPostgres({
        dataDir: building,
        log,
        inheritedEnv: options.inheritedEnv,
      });
      try {
        const rowsByTable = await restore(old, schema, server.url, log);
        const { applied } = await migrate({ databaseUrl: server.url, log });
        await server.stop();
        const keptAs = await freeName(`${oldDir}.converted`);
        await rename(oldDir, keptAs);
        await rename(building, target);
        if (existsSync(`${building}.log`)) await rename(`${building}.log`, `${target}.log`);
        return { dataDir: target, keptAs, rowsByTable, appliedMigrations: applied };
      } finally {
        await server.stop();
      }
    } finally {
      await old.close().catch(() => {});
    }
  } catch (error) {
    // Only what this run built; the PGlite files are untouched.
    await rm(building, { recursive: true, force: true });
    await rm(`${building}.log`, { force: true });
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function freeName(base: string): Promise<string> {
  if (!existsSync(base)) return base;
  for (let n = 2; ; n++) if (!existsSync(`${base}-${n}`)) return `${base}-${n}`;
}

async function restore(
  old: PgliteLike,
  schema: string,
  url: string,
  log: (message: string) => void,
): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("BEGIN");
    // The dump's own settings, search_path '' among them: every name below is qualified.
    await client.query(schema);
    // Foreign keys and triggers are triggers: hold them off while rows arrive in any order.
    await client.query("SET LOCAL session_replication_role = replica");
    const tables = (
      await old.query<TableRef>(
        `SELECT n.nspname AS schema, c.relname AS name
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg\\_%'
          ORDER BY 1, 2`,
      )
    ).rows;
    const rowsByTable: Record<string, number> = {};
    for (const table of tables) {
      const count = await copyTable(old, client, table);
      rowsByTable[`${table.schema}.${table.name}`] = count;
      if (count > 0) log(`copied ${count} rows of ${table.schema}.${table.name}`);
    }
    const sequences = (
      await old.query<{ schema: string; name: string; value: string }>(
        `SELECT schemaname AS schema, sequencename AS name, last_value::text AS value
           FROM pg_sequences WHERE last_value IS NOT NULL`,
      )
    ).rows;
    for (const sequence of sequences) {
      await client.query("SELECT pg_catalog.setval($1::regclass, $2::bigint, true)", [
        qualified(sequence),
        sequence.value,
      ]);
    }
    await client.query("COMMIT");
    return rowsByTable;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

async function copyTable(old: PgliteLike, client: pg.Client, table: TableRef): Promise<number> {
  // Generated columns are computed again by the new server and refuse values.
  const columns = (
    await old.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        ORDER BY a.attnum`,
      [qualified(table)],
    )
  ).rows.map((column) => quoteIdent(column.name));
  if (columns.length === 0) return 0;
  const list = columns.join(", ");
  let copied = 0;
  // A cursor in one PGlite transaction: pages without OFFSET's rescans.
  await old.exec("BEGIN");
  try {
    await old.exec(
      `DECLARE fleet_copy NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS row FROM (SELECT ${list} FROM ${qualified(table)}) t`,
    );
    for (;;) {
      const page = (await old.query<{ row: string }>(`FETCH ${PAGE_ROWS} FROM fleet_copy`)).rows;
      if (page.length === 0) break;
      await client.query(
        `INSERT INTO ${qualified(table)} (${list}) OVERRIDING SYSTEM VALUE
         SELECT ${list} FROM pg_catalog.json_populate_recordset(NULL::${qualified(table)}, $1::json)`,
        [`[${page.map((entry) => entry.row).join(",")}]`],
      );
      copied += page.length;
    }
  } finally {
    await old.exec("COMMIT");
  }
  const [check] = (
    await client.query<{ count: string }>(`SELECT count(*)::text AS count FROM ${qualified(table)}`)
  ).rows;
  if (Number(check?.count) !== copied) {
    throw new EmbeddedPostgresError(
      `${table.schema}.${table.name}: copied ${copied} rows but the new server counts ${check?.count}`,
    );
  }
  return copied;
}
