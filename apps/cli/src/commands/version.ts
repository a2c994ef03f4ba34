// `fleet version`: the CLI's version, and whether the central answers.
import { readFileSync } from "node:fs";
import { EXIT } from "../cli-error";
import { createFleetClient } from "../client";
import { defineCommand } from "../command";
import { loadCredentials } from "../config";
import { println } from "../io";

// The build (scripts/build) replaces this name with the version and commit it
// bundled; run from source there is no such global and package.json answers.
declare const FLEET_BUILD_INFO: { version: string; commit: string } | undefined;

const built = typeof FLEET_BUILD_INFO === "object" ? FLEET_BUILD_INFO : null;

export const CLI_VERSION: string =
  built?.version ??
  (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/** The commit the executable was built from; "unknown" from source or outside git. */
export const CLI_COMMIT: string = built?.commit ?? "unknown";

export const versionCommand = defineCommand({
  spec: {
    name: "version",
    summary: "Show the CLI's version and the central it talks to",
    usage: "",
    options: {},
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet version"],
  },
  async run(context) {
    const { io } = context;
    println(io.stdout, `fleet ${CLI_VERSION} (commit ${CLI_COMMIT}, node ${process.versions.node})`);
    const credentials = await loadCredentials(io.env, context.configPath).catch(() => null);
    if (!credentials) {
      println(io.stdout, "central: not logged in");
      return EXIT.ok;
    }
    const health = await createFleetClient({ url: credentials.url, auth: null })
      .health.query()
      .then((answer) => `${answer.status}, database ${answer.database}, up ${answer.uptimeSeconds}s`)
      .catch((error: unknown) => `not answering (${(error as Error).message})`);
    println(io.stdout, `central: ${credentials.url} (${health})`);
    return EXIT.ok;
  },
});
