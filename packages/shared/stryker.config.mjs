// Mutation testing of the pure scheduler: `npm run mutation` from the repo
// root. Outside CI and `npm test` on purpose: it runs the scheduler's unit
// tests once per mutant, which takes many minutes.
//
// StrykerJS 8 with its command runner: StrykerJS 10 needs Node 22, and the
// vitest runner of 8 does not support Vitest 4. The command runner cannot
// tell which tests cover a mutant, so every mutant runs the whole suite of
// the folder; mutants are switched on by an environment variable, so the
// sandbox is copied and instrumented once.
import { tmpdir } from "node:os";
import { join } from "node:path";

// No `testRunner`: the command runner is StrykerJS's default (and naming it
// makes knip look for a plugin package that StrykerJS 8 does not have).
export default {
  // --bail: a mutant is killed by its first failing test, no need to run the
  // rest. Without npx (half a second a run), without isolating test files
  // from each other (the scheduler keeps no module state; half the cpu) and
  // in one worker, as StrykerJS runs two at once.
  commandRunner: {
    command:
      "node node_modules/vitest/vitest.mjs run --project unit --pool=threads --no-isolate --maxWorkers=1 --bail=1 packages/shared/src/scheduler",
  },
  coverageAnalysis: "off",
  mutate: [
    "packages/shared/src/scheduler/**/*.ts",
    "!packages/shared/src/scheduler/**/*.test.ts",
    "!packages/shared/src/scheduler/test-factories.ts",
  ],
  // The sandbox needs only the shared package and the root's test and
  // TypeScript configuration (node_modules is linked, not copied).
  ignorePatterns: [
    "/*",
    "!/packages",
    "/packages/*",
    "!/packages/shared",
    "!/package.json",
    "!/vitest.config.ts",
    "!/tsconfig.base.json",
  ],
  // A 2-core machine, usually shared with other test runs.
  concurrency: 2,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/scheduler.html" },
  jsonReporter: { fileName: "reports/mutation/scheduler.json" },
  thresholds: { high: 90, low: 80, break: null },
  // Outside the checkout: a sandbox inside it would add a copy of every test
  // file to the test runs of whoever works in the same tree meanwhile.
  tempDirName: join(tmpdir(), "fleet-stryker"),
};
