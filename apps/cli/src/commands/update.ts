// `fleet update [OPTIONS] DEPLOYMENT`, as `docker service update`: the same
// command as `fleet deploy update` under the name scripts already use.
import { defineCommand } from "../command";
import { runUpdate, UPDATE_OPTIONS } from "./deploy";

export const updateCommand = defineCommand({
  spec: {
    name: "update",
    summary: "Change a deployment (as `fleet deploy update`); the change rolls out as a new revision",
    usage: "[OPTIONS] DEPLOYMENT",
    details: [
      "The image's tag is resolved to a digest once; replicas run that digest until the next change.",
      "Follows the rollout until it ends unless -d; exits 1 if it fails. See `fleet deploy update --help`.",
    ],
    options: UPDATE_OPTIONS,
    args: { min: 1, max: 1, what: "the deployment (name or id) is" },
    examples: ["fleet update --image registry.local/api:2.1 api", "fleet update -d -e MODE=fast api"],
  },
  async run(context, { values, args }) {
    return runUpdate(context, values, args[0]!, "update");
  },
});
