// The database the central kept before the embedded PostgreSQL server: PGlite
// (PostgreSQL compiled to 32-bit wasm) in <FLEET_DATA_DIR>/pgdata. A real
// server cannot open those files (PGlite's cluster is built without
// USE_FLOAT8_BYVAL), so they are dumped through PGlite and restored, by an
// explicit command (convert-pglite-cli.ts) rather than at start: it has to
// fetch PGlite from the npm registry, which a central must not need to start.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EmbeddedPostgresError } from "./embedded-postgres-error";

export const PGLITE_DIR_NAME = "pgdata";

export function pgliteDataDir(fleetDataDir: string): string {
  return join(fleetDataDir, PGLITE_DIR_NAME);
}

// PGlite writes PG_VERSION like any cluster but never postmaster.opts, which
// every real postmaster writes when it starts.
export function isPgliteDataDir(dir: string): boolean {
  return existsSync(join(dir, "PG_VERSION")) && !existsSync(join(dir, "postmaster.opts"));
}

function shellQuote(value: string): string {
  return /^[\w./:=@%+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

// Run from the checkout; the data directory is spelled out so the command
// works whatever directory the central was started in.
export function pgliteConversionCommand(fleetDataDir: string): string {
  return `FLEET_DATA_DIR=${shellQuote(fleetDataDir)} npm run db:convert-pglite`;
}

export class PgliteDataDirError extends EmbeddedPostgresError {
  override name = "PgliteDataDirError";
  constructor(
    readonly pgliteDir: string,
    readonly command: string,
  ) {
    super(
      `embedded Postgres: ${pgliteDir} holds a database from an earlier Fleet (PGlite), which the embedded PostgreSQL server cannot open. Convert it once with:\n\n  ${command}\n\n(from the Fleet checkout; it dumps the old database through PGlite, restores it into a new server under ${join(pgliteDir, "..", "postgres")} and keeps the old files as ${pgliteDir}.converted). Nothing has been changed.`,
    );
  }
}
