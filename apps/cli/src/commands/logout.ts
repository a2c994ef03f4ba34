// `fleet logout`: forgets the stored URL and token, and revokes the token
// when `fleet login` created it (a token given with --token belongs to
// whoever made it, and is left alone).
import { EXIT } from "../cli-error";
import { createFleetClient, toCliError } from "../client";
import { defineCommand } from "../command";
import { normalizeServerUrl, readConfigFile, removeConfigFile } from "../config";
import { println } from "../io";

export const logoutCommand = defineCommand({
  spec: {
    name: "logout",
    summary: "Forget the stored URL and token (revoking the token if login created it)",
    usage: "",
    options: {},
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet logout"],
  },
  async run(context) {
    const { io } = context;
    const config = await readConfigFile(context.configPath);
    if (config?.tokenId) {
      const url = normalizeServerUrl(config.url);
      try {
        await createFleetClient({ url, auth: { bearer: config.token } }).apiToken.revoke.mutate({
          id: config.tokenId,
        });
      } catch (error) {
        println(io.stderr, `fleet: the token was not revoked: ${toCliError(error, url).message}`);
      }
    }
    const removed = await removeConfigFile(context.configPath);
    println(io.stderr, removed && config ? `Logged out of ${config.url}` : "Not logged in");
    if (io.env.FLEET_TOKEN || io.env.FLEET_URL) {
      println(io.stderr, "FLEET_URL / FLEET_TOKEN are still set in the environment and still apply");
    }
    return EXIT.ok;
  },
});
