// Where the build reads and writes. The executables' names and the `dist/`
// folder are a contract: the central serves downloads from there.
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const DIST_DIR = join(REPO_ROOT, "dist");
export const WEB_DIR = join(REPO_ROOT, "apps/web");

export const AGENT_EXECUTABLE = join(DIST_DIR, "fleet-agent-linux-x64");
export const CLI_EXECUTABLE = join(DIST_DIR, "fleet-linux-x64");
/** The central's server, run with plain `node` by `npm start`. */
export const CENTRAL_SERVER = join(WEB_DIR, "dist/server.js");
/** `npm run up`'s launcher: the same central in-process, plus an engine and a local agent. */
export const CENTRAL_UP = join(WEB_DIR, "dist/up.js");

/** The build's own sources: a change to how things are built makes every output stale. */
export function buildScripts(): string[] {
  const dir = join(REPO_ROOT, "scripts/build");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
    .map((name) => join(dir, name));
}
