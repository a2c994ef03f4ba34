import { defineConfig } from "vitest/config";

// Test kinds by file suffix: `*.test.ts` are unit tests (no services),
// `*.integration.test.ts` need a real Postgres or container engine,
// `test/e2e/**` drive the whole fleet and a browser.
const ignored = ["**/node_modules/**", "**/.next/**", "**/dist/**"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [...ignored, "**/*.integration.test.ts", "test/e2e/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["**/*.integration.test.ts"],
          exclude: [...ignored, "test/e2e/**"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.e2e.test.ts"],
          exclude: ignored,
          // The PostgreSQL server, then the dashboard's production build (at most once per run).
          globalSetup: ["test/harness/global-setup.ts", "test/e2e/harness/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Each file runs a central, an engine and a browser: one at a time on a small machine.
          fileParallelism: false,
        },
      },
    ],
  },
});
