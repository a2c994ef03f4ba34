import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const config: NextConfig = {
  // Workspace packages export TypeScript source.
  transpilePackages: ["@fleet/shared"],
  // Server-only packages stay Node modules rather than being bundled.
  serverExternalPackages: ["pg", "@prisma/client", "@prisma/adapter-pg", "pino", "ws"],
  // The monorepo root holds node_modules and the lockfile.
  outputFileTracingRoot: repoRoot,
  turbopack: { root: repoRoot },
  typescript: {
    // `npm run typecheck` (tsc -p, in CI) checks the whole app including the
    // custom server; the build need not repeat it.
    ignoreBuildErrors: true,
  },
  poweredByHeader: false,
  // The dev server binds all addresses; browsers reach it by loopback name or IP.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  devIndicators: false,
};

export default config;
