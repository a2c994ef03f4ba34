// Which build of the central this process runs: `<version>+<commit>`, as the
// agent reports its own. The build (scripts/build/central.ts) replaces
// FLEET_BUILD_INFO with the version and commit it bundled; run from source
// there is no such global and apps/web/package.json answers, with the commit
// "unknown". Replicas record it in central_replicas, so a rolling upgrade
// shows which replicas run which build.
import { readFileSync } from "node:fs";

declare const FLEET_BUILD_INFO: { version: string; commit: string } | undefined;

const built = typeof FLEET_BUILD_INFO === "object" ? FLEET_BUILD_INFO : null;

function sourceVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

/** `<version>+<commit>`, at most 64 characters. */
export const CENTRAL_BUILD_ID: string =
  `${built?.version ?? sourceVersion()}+${built?.commit ?? "unknown"}`.slice(0, 64);
