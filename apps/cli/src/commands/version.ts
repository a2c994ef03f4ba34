// `fleet version`: the CLI's version, and whether the central answers.
import { readFileSync } from "node:fs";
import { EXIT } from "../cli-error";
import { createFleetClient } from "../client";
import { defineCommand } from "../command";
import { loadCredentials } from "../config";
import { println } from "../io";

export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

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
    println(io.stdout, `fleet ${CLI_VERSION} (node ${process.versions.node})`);
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
