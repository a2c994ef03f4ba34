// What every command is: its spec (flags, usage, examples: see args.ts) and
// a run function that gets the process's io and, when it needs the central,
// a logged-in session. main.ts owns the table of commands and the exit codes.
import type { CommandSpec, OptionSpecs, ParsedArgs } from "./args";
import { notLoggedIn } from "./cli-error";
import { createFleetClient, type FleetClient } from "./client";
import { loadCredentials } from "./config";
import type { CliIo } from "./io";

export interface Session {
  url: string;
  token: string;
  client: FleetClient;
}

export interface CommandContext {
  io: CliIo;
  configPath: string;
  /** The stored (or FLEET_URL/FLEET_TOKEN) credentials and a client; exit 3 when there are none. */
  session(): Promise<Session>;
  /** The central a failure came from, for messages (set once a session or login names one). */
  url: string | null;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  spec: CommandSpec<O>;
  /** The exit code (0 when nothing is returned). */
  run(context: CommandContext, parsed: ParsedArgs<O>): Promise<number | undefined>;
}

/** Keeps the options' literal types for `run` while the command table holds them all alike. */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command {
  return command as unknown as Command;
}

export function createCommandContext(io: CliIo, configPath: string): CommandContext {
  let session: Session | null = null;
  const context: CommandContext = {
    io,
    configPath,
    url: null,
    async session() {
      if (session) return session;
      const credentials = await loadCredentials(io.env, configPath);
      if (!credentials) throw notLoggedIn();
      context.url = credentials.url;
      session = {
        url: credentials.url,
        token: credentials.token,
        client: createFleetClient({ url: credentials.url, auth: { bearer: credentials.token } }),
      };
      return session;
    },
  };
  return context;
}

/**
 * Docker's management commands (`fleet volume ls`): a noun whose subcommands
 * are ordinary commands named `<noun> <verb>`, so their help, usage errors and
 * exit codes work as for any other command.
 */
export interface CommandGroup {
  name: string;
  summary: string;
  commands: readonly Command[];
  /** Docker's other spellings of a verb: `list` → `ls`. */
  aliases?: Readonly<Record<string, string>>;
  examples: string[];
}

/** The verb of a subcommand: `volume ls` → `ls`. */
export function verbOf(command: Command): string {
  return command.spec.name.slice(command.spec.name.indexOf(" ") + 1);
}

export function formatGroupHelp(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((command) => verbOf(command).length));
  return [
    `Usage:  fleet ${group.name} COMMAND`,
    "",
    group.summary,
    "",
    "Commands:",
    ...group.commands.map((command) => `  ${verbOf(command).padEnd(width)}   ${command.spec.summary}`),
    "",
    group.examples.length === 1 ? "Example:" : "Examples:",
    ...group.examples.map((example) => `  ${example}`),
    "",
    `Run 'fleet ${group.name} COMMAND --help' for more information on a command.`,
    "",
  ].join("\n");
}
