// Locates files of the checkout (prisma/schema.prisma, prisma/migrations) from
// this module's own location, so tools work from any working directory.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The first `relativePath` found walking up from this module, else the one
// under the working directory.
export function findProjectPath(relativePath: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const fromCwd = resolve(relativePath);
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`${relativePath} not found above ${fileURLToPath(import.meta.url)} or in ${process.cwd()}`);
}

export function defaultMigrationsDir(): string {
  return dirname(findProjectPath(join("prisma", "migrations", "migration_lock.toml")));
}

export function defaultSchemaPath(): string {
  return findProjectPath(join("prisma", "schema.prisma"));
}
