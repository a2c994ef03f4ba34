// `fleet rm`: removes containers for good. The API removes a running
// container as readily as a stopped one; like docker, the CLI asks for -f
// before it removes one that is running.
import { ACTIVE_CONTAINER_STATES } from "@fleet/shared/domain/container-state";
import type { TContainer } from "../api-types";
import { CliError, EXIT } from "../cli-error";
import { defineCommand } from "../command";
import { forEachContainer } from "./lifecycle";

export function isRunning(container: TContainer): boolean {
  return container.desiredState === "running" && ACTIVE_CONTAINER_STATES.includes(container.actualState);
}

export const rmCommand = defineCommand({
  spec: {
    name: "rm",
    summary: "Remove containers",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    options: {
      force: { type: "boolean", short: "f", description: "Remove running containers too" },
    },
    args: { min: 1, max: null, what: "the container (name or id) is" },
    examples: ["fleet rm web", "fleet rm -f $(fleet ps -aq)"],
  },
  run: (context, { values, args }) =>
    forEachContainer(context, args, async (client, container) => {
      if (isRunning(container) && !values.force) {
        throw new CliError(
          `container ${container.name} is ${container.actualState}: stop it first or use rm -f`,
          EXIT.failure,
        );
      }
      return client.container.remove.mutate({ id: container.id });
    }),
});
