/**
 * The `fleet` command: picks the command, parses its flags, runs it and
 * turns every outcome into an exit code (see cli-error.ts): 0 ok, 1 the
 * operation failed or the central refused it, 2 usage error, 3 not logged
 * in or not allowed, 4 not found, 130 interrupted. Expected failures print
 * `fleet: <message>` on stderr, never a stack trace.
 *
 * May import: node built-ins, @fleet/shared (browser-safe parts), @trpc/client,
 * superjson, eventsource, tar-stream, and the API's *types* from @fleet/web.
 */
import { hostname } from "node:os";
import { formatCommandHelp, formatUsageLine, parseCommandArgs } from "./args";
import { type CliError, EXIT, UsageError } from "./cli-error";
import { toCliError } from "./client";
import { type Command, createCommandContext } from "./command";
import { buildCommand } from "./commands/build";
import { hostsCommand } from "./commands/hosts";
import { imagesCommand } from "./commands/images";
import { joinTokenCommand } from "./commands/join-token";
import { loginCommand } from "./commands/login";
import { logoutCommand } from "./commands/logout";
import { logsCommand } from "./commands/logs";
import { psCommand } from "./commands/ps";
import { pullCommand } from "./commands/pull";
import { restartCommand } from "./commands/restart";
import { rmCommand } from "./commands/rm";
import { runCommand } from "./commands/run";
import { startCommand } from "./commands/start";
import { stopCommand } from "./commands/stop";
import { topCommand } from "./commands/top";
import { versionCommand } from "./commands/version";
import { configPath } from "./config";
import { type CliIo, println, type TInput } from "./io";

export const COMMANDS: readonly Command[] = [
  loginCommand,
  logoutCommand,
  hostsCommand,
  runCommand,
  psCommand,
  logsCommand,
  stopCommand,
  startCommand,
  restartCommand,
  rmCommand,
  imagesCommand,
  pullCommand,
  buildCommand,
  topCommand,
  joinTokenCommand,
  versionCommand,
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.spec.name === name);
}

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.spec.name.length));
  return [
    "Usage:  fleet COMMAND [OPTIONS] [ARGS]",
    "",
    "Run and watch containers across a fleet of hosts.",
    "",
    "Commands:",
    ...COMMANDS.map((command) => `  ${command.spec.name.padEnd(width)}   ${command.spec.summary}`),
    "",
    "Exit codes: 0 ok, 1 failed, 2 usage error, 3 not logged in or not allowed, 4 not found.",
    "Credentials: `fleet login`, or FLEET_URL and FLEET_TOKEN in the environment.",
    "",
    "Run 'fleet COMMAND --help' for more information on a command.",
    "",
  ].join("\n");
}

function printFailure(io: CliIo, failure: CliError): void {
  println(io.stderr, `fleet: ${failure.message}`);
  if (failure instanceof UsageError) {
    const command = failure.command ? findCommand(failure.command) : undefined;
    io.stderr.write(
      command ? formatUsageLine(command.spec) : "Run 'fleet --help' for the list of commands.\n",
    );
  }
}

/** Runs one command line; resolves to the exit code. Never throws for expected failures. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: { configPath?: string } = {},
): Promise<number> {
  const context = createCommandContext(io, options.configPath ?? configPath(io.env));
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === "--help" || first === "-h") {
      io.stdout.write(topLevelHelp());
      return EXIT.ok;
    }
    if (first === "help") {
      const command = rest[0] === undefined ? undefined : findCommand(rest[0]);
      if (rest[0] !== undefined && !command) throw new UsageError(`unknown command: ${rest[0]}`);
      io.stdout.write(command ? formatCommandHelp(command.spec) : topLevelHelp());
      return EXIT.ok;
    }
    const name = first === "--version" || first === "-v" ? "version" : first;
    if (name.startsWith("-")) throw new UsageError(`unknown flag: ${name} (flags go after the command)`);
    const command = findCommand(name);
    if (!command) throw new UsageError(`unknown command: ${name}`);
    const parsed = parseCommandArgs(command.spec, name === first ? rest : []);
    if (parsed.help) {
      io.stdout.write(formatCommandHelp(command.spec));
      return EXIT.ok;
    }
    return (await command.run(context, parsed)) ?? EXIT.ok;
  } catch (error) {
    let failure: CliError;
    try {
      failure = toCliError(error, context.url ?? "the central");
    } catch {
      // Not an outcome anyone planned for: the stack is what a bug report needs.
      println(
        io.stderr,
        `fleet: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      return EXIT.failure;
    }
    printFailure(io, failure);
    return failure.exitCode;
  }
}

/** How long a command may take to wind down after Ctrl-C before the process just exits. */
const INTERRUPT_GRACE_MS = 2000;

/** The process: real stdio, env and signals; exits with the command's code. */
export async function main(): Promise<never> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // A second Ctrl-C means now.
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    controller.abort(signal);
    setTimeout(() => process.exit(EXIT.interrupted), INTERRUPT_GRACE_MS).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `fleet ps | head -1`: a reader that went away is not our failure.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(EXIT.ok);
      throw error;
    });
  }
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    // Touched only by commands that read it (login), so others never open stdin.
    get stdin(): TInput {
      return process.stdin;
    },
    env: process.env,
    signal: controller.signal,
    now: () => Date.now(),
    hostname,
  };
  const code = await runCli(process.argv.slice(2), io);
  process.exit(code);
}
