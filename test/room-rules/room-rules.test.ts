// The room rules of .dependency-cruiser.cjs can fail: each is run against
// fixtures/ (a miniature of the repository's rooms) that breaks it exactly
// where expected, and allows what the rules allow (type imports from the
// dashboard and the CLI, test helpers that reach anywhere).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURES = "test/room-rules/fixtures";

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruiseFixtures(): Violation[] {
  let output: string;
  try {
    output = execFileSync(
      "npx",
      [
        "--no-install",
        "depcruise",
        "--config",
        ".dependency-cruiser.cjs",
        // The repository's own run leaves the fixtures out; here they are all there is.
        "--exclude",
        "(^|/)dist/",
        "--output-type",
        "json",
        FIXTURES,
      ],
      { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (error) {
    // depcruise exits non-zero when it finds violations, which is the point here.
    output = (error as { stdout?: string }).stdout ?? "";
  }
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

const local = (path: string) => path.replace(`${FIXTURES}/`, "");

describe("room rules", () => {
  const found = cruiseFixtures()
    .map(
      (violation) =>
        `${violation.rule.name}: ${local(violation.from)} → ${local(violation.to).replace(/^node_modules\/([^/]+).*/, "$1")}`,
    )
    .sort();

  it("each rule fails on its fixture, and nothing else does", () => {
    expect(found).toEqual(
      [
        "agent-not-central: apps/agent/src/imports-prisma.ts → @prisma",
        "agent-not-central: apps/agent/src/imports-the-central.ts → apps/web/src/server/services/place-thing.ts",
        "central-not-agent: apps/web/src/server/services/place-thing.ts → apps/agent/src/agent-name.ts",
        "cli-types-only-from-central: apps/cli/src/runs-server-code.ts → apps/web/src/server/routers/thing-router.ts",
        "dashboard-types-only-from-server: apps/web/src/client/runs-server-code.ts → apps/web/src/server/services/place-thing.ts",
        "gateway-beside-services: apps/web/src/server/gateway/gateway.ts → apps/web/src/server/services/thing-view.ts",
        "low-rooms-stay-low: apps/web/src/server/events/record-event.ts → apps/web/src/server/services/thing-view.ts",
        "no-circular: apps/web/src/server/db/thing-client.ts → apps/web/src/server/db/thing-rows.ts",
        "routers-call-services: apps/web/src/server/routers/thing-router.ts → apps/web/src/server/gateway/gateway.ts",
        "routers-no-queries: apps/web/src/server/routers/thing-router.ts → apps/web/src/server/db/thing-client.ts",
        "services-below-wiring: apps/web/src/server/services/place-thing.ts → apps/web/src/server/gateway/gateway.ts",
        "shared-only-zod: packages/shared/src/imports-a-library.ts → ws",
      ].sort(),
    );
  });

  it("every rule of the configuration has a fixture that breaks it", () => {
    const config = createRequire(import.meta.url)("../../.dependency-cruiser.cjs") as {
      forbidden: { name: string }[];
    };
    const broken = new Set(found.map((line) => line.slice(0, line.indexOf(":"))));
    expect(config.forbidden.map((rule) => rule.name).sort()).toEqual([...broken].sort());
  });
});
