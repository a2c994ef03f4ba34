import { defineCommand } from "../command";
import { forEachContainer } from "./lifecycle";

export const restartCommand = defineCommand({
  spec: {
    name: "restart",
    summary: "Replace containers with fresh ones of the same spec",
    usage: "CONTAINER [CONTAINER...]",
    options: {},
    args: { min: 1, max: null, what: "the container (name or id) is" },
    examples: ["fleet restart web"],
  },
  run: (context, { args }) =>
    forEachContainer(context, args, (client, container) =>
      client.container.restart.mutate({ id: container.id }),
    ),
});
