/**
 * The dashboard's production build for the e2e tests, redone when stale by the
 * build's own rule (`dashboardStaleness` in scripts/build/central.ts:
 * `apps/web/.next/BUILD_ID` older than any of its sources). Called once per run
 * from the e2e project's globalSetup, so test files never build. Unlike
 * `npm run build`'s dashboard target it runs the web workspace's whole build
 * (the central's bundle too) and keeps the output for the error.
 *
 * May import: node built-ins, the build (scripts/build).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  BUILD_ID,
  DASHBOARD_SOURCES,
  dashboardStaleness,
  NEXT_BUILD_LOCK,
} from "../../../scripts/build/central";
import { REPO_ROOT } from "../../../scripts/build/paths";

/** Runs `npm run build -w @fleet/web` when the build is stale; throws with its output when it fails. */
export function ensureDashboardBuild(log: (line: string) => void = () => {}): void {
  const reason = dashboardStaleness();
  if (!reason) return;
  log(`e2e: building the dashboard (${reason})`);
  const started = Date.now();
  // Under the lock `npm run build` takes too, look again: whoever held it may have just built.
  const buildIfStale = [
    'if [ -f "$0" ] && [ -z "$(find "$@" -newer "$0" -print -quit)" ]; then exit 0; fi',
    "exec npm run build -w @fleet/web",
  ].join("\n");
  const result = spawnSync(
    "flock",
    [
      NEXT_BUILD_LOCK,
      "sh",
      "-c",
      buildIfStale,
      BUILD_ID,
      ...DASHBOARD_SOURCES.filter((source) => existsSync(source)),
    ],
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
