import { readFileSync } from "node:fs";

// The build (scripts/build) replaces this name with the version and commit it
// bundled; run from source there is no such global and package.json answers.
declare const FLEET_BUILD_INFO: { version: string; commit: string } | undefined;

const built = typeof FLEET_BUILD_INFO === "object" ? FLEET_BUILD_INFO : null;

/** The agent's version, as its package.json says; sent in `hello` and the host facts. */
export const AGENT_VERSION: string =
  built?.version ??
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/** The commit the executable was built from; "unknown" from source or outside git. */
export const AGENT_COMMIT: string = built?.commit ?? "unknown";

/** True in the executable `npm run build` makes: only that can replace itself with the central's build. */
export const AGENT_IS_BUILT: boolean = built !== null;

/**
 * `<version>+<commit>`: what the agent reports in its hello, and what the
 * central compares with the manifest of the binary it serves.
 */
export const AGENT_BUILD_ID: string = `${AGENT_VERSION}+${AGENT_COMMIT}`.slice(0, 64);

/** What `fleet-agent --version` prints. */
export function agentVersionLine(): string {
  return `fleet-agent ${AGENT_VERSION} (commit ${AGENT_COMMIT}, node ${process.versions.node})`;
}
