// Vitest globalSetup of the e2e project, beside test/harness/global-setup.ts
// (the PostgreSQL server): makes sure the dashboard's production build is
// current before any test file starts a central that serves it, and starts
// the run with no screenshots from an earlier one.
import { rmSync } from "node:fs";
import { SCREENSHOT_DIR } from "./browser";
import { ensureDashboardBuild } from "./dashboard-build";

export default function setup(): void {
  rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  ensureDashboardBuild((line) => process.stderr.write(`${line}\n`));
}
