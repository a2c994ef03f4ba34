// What stop, start, restart and rm share: each takes several containers,
// acts on each in turn, prints each name as typed when it worked (as docker
// does), reports each failure on stderr and goes on; the exit code is that
// of the first failure.
import type { TContainer } from "../api-types";
import { EXIT } from "../cli-error";
import { type FleetClient, toCliError } from "../client";
import type { CommandContext } from "../command";
import { println } from "../io";
import { resolveContainer } from "../resolve";

export async function forEachContainer(
  context: CommandContext,
  refs: readonly string[],
  act: (client: FleetClient, container: TContainer) => Promise<unknown>,
): Promise<number> {
  const { client, url } = await context.session();
  let exitCode: number = EXIT.ok;
  for (const ref of refs) {
    try {
      await act(client, await resolveContainer(client, ref));
      println(context.io.stdout, ref);
    } catch (error) {
      const failure = toCliError(error, url);
      // Not logged in or refused: every other container would fail the same way.
      if (failure.exitCode === EXIT.unauthorized) throw failure;
      println(context.io.stderr, `fleet: ${ref}: ${failure.message}`);
      if (exitCode === EXIT.ok) exitCode = failure.exitCode;
    }
  }
  return exitCode;
}
