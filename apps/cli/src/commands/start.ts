import { defineCommand } from "../command";
import { forEachContainer } from "./lifecycle";

export const startCommand = defineCommand({
  spec: {
    name: "start",
    summary: "Start stopped containers again on their own host",
    usage: "CONTAINER [CONTAINER...]",
    options: {},
    args: { min: 1, max: null, what: "the container (name or id) is" },
    examples: ["fleet start web"],
  },
  run: (context, { args }) =>
    forEachContainer(context, args, (client, container) =>
      client.container.start.mutate({ id: container.id }),
    ),
});
