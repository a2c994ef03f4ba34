/**
 * The central as plain JavaScript: esbuild bundles apps/web/server.ts (and
 * scripts/up.ts, `npm run up`'s launcher) into ES modules under
 * apps/web/dist. The workspace's TypeScript is bundled in (@fleet/shared, the
 * generated Prisma client with its `.ts` imports, the `@/` alias); npm
 * packages stay imports, resolved from node_modules beside the checkout as
 * Next.js itself is. ES modules keep `import.meta.url` true to the file, so
 * the server finds the Next.js app and prisma/migrations from apps/web/dist.
 *
 * The dashboard is Next.js's own production build (.next), redone by the
 * same rule as the e2e harness: BUILD_ID older than any of its sources.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as esbuild from "esbuild";
import { currentCommit, inputsOf, writeBuildRecord } from "./build-record";
import { CENTRAL_SERVER, CENTRAL_UP, REPO_ROOT, WEB_DIR } from "./paths";

export const CENTRAL_RECORD = join(WEB_DIR, "dist/central.build.json");

// Bare imports that are the workspace's own source, not installed packages.
const BUNDLED_PREFIXES = ["@fleet/", "@/"];

const externalPackages: esbuild.Plugin = {
  name: "fleet-external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || BUNDLED_PREFIXES.some((p) => args.path.startsWith(p))) {
        return undefined;
      }
      return { path: args.path, external: true };
    });
  },
};

function webPackageVersion(): string {
  return (JSON.parse(readFileSync(join(WEB_DIR, "package.json"), "utf8")) as { version: string }).version;
}

export async function buildCentralServer(): Promise<{ outputs: { path: string; bytes: number }[] }> {
  const startedAtMs = Date.now();
  mkdirSync(join(WEB_DIR, "dist"), { recursive: true });
  const result = await esbuild.build({
    entryPoints: { server: join(WEB_DIR, "server.ts"), up: join(REPO_ROOT, "scripts/up.ts") },
    bundle: true,
    platform: "node",
    format: "esm",
    target: `node${process.versions.node}`,
    outdir: join(WEB_DIR, "dist"),
    // Both entries share the central's modules: one chunk, not two copies.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
    sourcemap: "linked",
    plugins: [externalPackages],
    tsconfig: join(WEB_DIR, "tsconfig.json"),
    // What apps/web/src/server/build-info.ts reports (run from source it reads package.json).
    define: { FLEET_BUILD_INFO: JSON.stringify({ version: webPackageVersion(), commit: currentCommit() }) },
  });
  writeBuildRecord(CENTRAL_RECORD, {
    inputs: inputsOf(result.metafile.inputs, process.cwd()),
    commit: currentCommit(),
    node: process.version,
    startedAtMs,
  });
  return {
    outputs: [CENTRAL_SERVER, CENTRAL_UP].map((path) => ({ path, bytes: statSync(path).size })),
  };
}

// ---- the dashboard (next build) --------------------------------------------

export const BUILD_ID = join(WEB_DIR, ".next/BUILD_ID");
export const DASHBOARD_SOURCES = [
  join(WEB_DIR, "src"),
  join(WEB_DIR, "next.config.ts"),
  join(REPO_ROOT, "packages/shared/src"),
];
// Shared with the e2e harness's dashboard build: two `next build`s in one .next corrupt each other.
export const NEXT_BUILD_LOCK = "/tmp/fleet-next-build.lock";

function newerThan(path: string, builtAtMs: number): string | null {
  if (!existsSync(path)) return null;
  const stat = statSync(path);
  // Directories' own mtimes count: a deleted file makes the build stale.
  if (stat.mtimeMs > builtAtMs) return path;
  if (!stat.isDirectory()) return null;
  for (const entry of readdirSync(path)) {
    const found = newerThan(join(path, entry), builtAtMs);
    if (found) return found;
  }
  return null;
}

export function dashboardStaleness(): string | null {
  if (!existsSync(BUILD_ID)) return "no Next.js build yet";
  const builtAtMs = statSync(BUILD_ID).mtimeMs;
  for (const source of DASHBOARD_SOURCES) {
    const found = newerThan(source, builtAtMs);
    if (found) return `${relative(REPO_ROOT, found)} is newer than the Next.js build`;
  }
  return null;
}

/** `next build`, under the lock the e2e harness takes too, looking again once it holds it. */
export function buildDashboard(options: { ifStale: boolean }): void {
  const script = [
    options.ifStale
      ? 'if [ -f "$0" ] && [ -z "$(find "$@" -newer "$0" -print -quit)" ]; then exit 0; fi'
      : "",
    "exec npx --no-install next build",
  ].join("\n");
  const result = spawnSync(
    "flock",
    [NEXT_BUILD_LOCK, "sh", "-c", script, BUILD_ID, ...DASHBOARD_SOURCES.filter((s) => existsSync(s))],
    // next build reads NODE_ENV; a test runner's "test" would break it.
    { cwd: WEB_DIR, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } },
  );
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal})`);
}
