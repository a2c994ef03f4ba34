/**
 * The dashboard's production build, redone when stale by the same rule as
 * `scripts/up`: `apps/web/.next/BUILD_ID` older than any file under
 * apps/web/src, apps/web/next.config.ts or packages/shared/src. Called once per
 * run from the e2e project's globalSetup, so test files never build.
 *
 * May import: node built-ins.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const WEB_DIR = join(REPO_ROOT, "apps/web");
const BUILD_ID = join(WEB_DIR, ".next/BUILD_ID");
const SOURCES = [
  join(WEB_DIR, "src"),
  join(WEB_DIR, "next.config.ts"),
  join(REPO_ROOT, "packages/shared/src"),
];
// Others may build the same checkout at the same moment; two `next build`s in
// one .next directory corrupt each other, so builds started here take turns.
const BUILD_LOCK = "/tmp/fleet-next-build.lock";

/** The first source newer than the build (what `find -newer BUILD_ID` prints first), or null. */
function newerThan(path: string, builtAtMs: number): string | null {
  if (!existsSync(path)) return null;
  const stat = statSync(path);
  // find -newer looks at directories' own mtimes too: a deleted file counts.
  if (stat.mtimeMs > builtAtMs) return path;
  if (!stat.isDirectory()) return null;
  for (const entry of readdirSync(path)) {
    const found = newerThan(join(path, entry), builtAtMs);
    if (found) return found;
  }
  return null;
}

/** Why the build must be redone (a missing build or the first newer source), or null when it is current. */
export function dashboardBuildStaleness(): string | null {
  if (!existsSync(BUILD_ID)) return "no build yet";
  const builtAtMs = statSync(BUILD_ID).mtimeMs;
  for (const source of SOURCES) {
    const found = newerThan(source, builtAtMs);
    if (found) return `${found.slice(REPO_ROOT.length + 1)} is newer than the build`;
  }
  return null;
}

/** Runs `npm run build -w @fleet/web` when the build is stale; throws with its output when it fails. */
export function ensureDashboardBuild(log: (line: string) => void = () => {}): void {
  const reason = dashboardBuildStaleness();
  if (!reason) return;
  log(`e2e: building the dashboard (${reason})`);
  const started = Date.now();
  // Under the lock, look again: whoever held it may have just built.
  const buildIfStale = [
    'if [ -f "$0" ] && [ -z "$(find "$@" -newer "$0" -print -quit)" ]; then exit 0; fi',
    "exec npm run build -w @fleet/web",
  ].join("\n");
  const result = spawnSync(
    "flock",
    [BUILD_LOCK, "sh", "-c", buildIfStale, BUILD_ID, ...SOURCES.filter((source) => existsSync(source))],
    {
      cwd: REPO_ROOT,
      encoding: "utf8",
      // next build reads NODE_ENV; vitest sets it to "test".
      env: { ...process.env, NODE_ENV: "production" },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim();
    throw new Error(
      `the dashboard build failed (exit ${result.status ?? result.signal}):\n${output.slice(-6000)}`,
    );
  }
  log(`e2e: dashboard built in ${Math.round((Date.now() - started) / 1000)} s`);
}
