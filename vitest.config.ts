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
    ],
  },
});
