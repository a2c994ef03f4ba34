import { defineCommand } from "../command";
import { forEachContainer } from "./lifecycle";

export const stopCommand = defineCommand({
  spec: {
    name: "stop",
    summary: "Stop containers (they stay on their host, their logs readable)",
    usage: "CONTAINER [CONTAINER...]",
    options: {},
    args: { min: 1, max: null, what: "the container (name or id) is" },
    examples: ["fleet stop web", "fleet stop $(fleet ps -q)"],
  },
  run: (context, { args }) =>
    forEachContainer(context, args, (client, container) =>
      client.container.stop.mutate({ id: container.id }),
    ),
});
