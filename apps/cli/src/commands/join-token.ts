// `fleet join-token`: a single-use join token, printed as the command to
// run on the new host.
import { parseLabel } from "@fleet/shared/label-selector";
import { keyValues } from "../args";
import { EXIT } from "../cli-error";
import { defineCommand } from "../command";
import { humanDuration } from "../format/format";
import { println } from "../io";

export const joinTokenCommand = defineCommand({
  spec: {
    name: "join-token",
    summary: "Create a join token and print the line that installs the agent on a new host and joins it",
    usage: "[OPTIONS]",
    details: ["The token works once, until it expires. Needs the admin role."],
    options: {
      ttl: { type: "string", value: "DURATION", description: "How long the token may be used (default 1h)" },
      label: {
        type: "string",
        short: "l",
        multiple: true,
        value: "KEY=VALUE",
        description: "A label the joining host gets",
      },
      json: { type: "boolean", description: "Print the API's answer as JSON" },
    },
    args: { min: 0, max: 0, what: "" },
    examples: ["fleet join-token", "fleet join-token --ttl 15m --label zone=a --label disk=ssd"],
  },
  async run(context, { values }) {
    const { io } = context;
    const labels = keyValues(values.label, "--label", "join-token", parseLabel);
    const { client } = await context.session();
    const created = await client.joinToken.create.mutate({
      ...(values.ttl !== undefined ? { ttl: values.ttl } : {}),
      labels,
    });
    if (values.json) {
      println(io.stdout, JSON.stringify(created, null, 2));
      return EXIT.ok;
    }
    println(
      io.stderr,
      `Run this on the new host (the token works once, for ${humanDuration(created.expiresAt.getTime() - io.now()).toLowerCase()}):`,
    );
    println(io.stdout, created.command);
    return EXIT.ok;
  },
});
