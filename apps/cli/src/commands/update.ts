// `fleet update --image IMAGE DEPLOYMENT`, as `docker service update --image`:
// the central resolves the tag to a digest once and pins every replica to it;
// the hosts then replace the replicas. Without --image there is nothing to change.
import type { TDeploymentDetail } from "../api-types";
import { EXIT, UsageError } from "../cli-error";
import { defineCommand } from "../command";
import { shortDigest } from "../format/format";
import { println } from "../io";
import { expectOne, matchByIdOrName } from "../resolve";

export function updateSummary(detail: TDeploymentDetail): string {
  const { deployment } = detail;
  const pinned = deployment.imageDigest
    ? ` (pinned to ${shortDigest(deployment.imageDigest)})`
    : " (no registry digest: a locally built image)";
  return `${deployment.name}: now ${deployment.image}${pinned}; its hosts replace ${deployment.replicas} replica${deployment.replicas === 1 ? "" : "s"}`;
}

export const updateCommand = defineCommand({
  spec: {
    name: "update",
    summary: "Change the image a deployment runs",
    usage: "--image IMAGE DEPLOYMENT",
    details: [
      "The tag is resolved to a digest once; every replica on every host runs that digest",
      "until the next update, even if the tag moves in the registry. Prints the deployment's name;",
      "`fleet ps` shows each replica's DIGEST as the hosts replace them.",
    ],
    options: {
      image: { type: "string", value: "IMAGE", description: "The image to run (required)" },
      json: { type: "boolean", description: "Print the API's answer as JSON" },
    },
    args: { min: 1, max: 1, what: "the deployment (name or id) is" },
    examples: ["fleet update --image registry.local/api:2.1 api"],
  },
  async run(context, { values, args }) {
    const ref = args[0]!;
    const image = values.image?.trim();
    if (!image) throw new UsageError("--image is required (the image the replicas should run)", "update");
    const { client } = await context.session();
    const { items } = await client.deployment.list.query({});
    const deployment = expectOne(matchByIdOrName(ref, items), ref, "deployment");
    const detail = await client.deployment.update.mutate({ id: deployment.id, image });
    if (values.json) println(context.io.stdout, JSON.stringify(detail, null, 2));
    else println(context.io.stdout, detail.deployment.name);
    println(context.io.stderr, updateSummary(detail));
    return EXIT.ok;
  },
});
