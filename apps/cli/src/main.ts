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
import { type Command, type CommandGroup, createCommandContext, formatGroupHelp } from "./command";
import { buildCommand } from "./commands/build";
import { deployGroup } from "./commands/deploy";
import { hostGroup } from "./commands/host";
import { hostsCommand } from "./commands/hosts";
import { imagesCommand } from "./commands/images";
import { joinTokenCommand } from "./commands/join-token";
import { loginCommand } from "./commands/login";
import { logoutCommand } from "./commands/logout";
import { logsCommand } from "./commands/logs";
import { networkGroup } from "./commands/network";
import { psCommand } from "./commands/ps";
import { pullCommand } from "./commands/pull";
import { restartCommand } from "./commands/restart";
import { rmCommand } from "./commands/rm";
import { rolloutGroup } from "./commands/rollout";
import { runCommand } from "./commands/run";
import { startCommand } from "./commands/start";
import { stopCommand } from "./commands/stop";
import { topCommand } from "./commands/top";
import { updateCommand } from "./commands/update";
import { versionCommand } from "./commands/version";
import { volumeGroup } from "./commands/volume";
import { configPath } from "./config";
import { type CliIo, println, type TInput } from "./io";

/** The commands typed as one word after `fleet`. */
const TOP_LEVEL: readonly Command[] = [
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
  updateCommand,
  topCommand,
  joinTokenCommand,
  versionCommand,
];

export const GROUPS: readonly CommandGroup[] = [
  deployGroup,
  hostGroup,
  networkGroup,
  rolloutGroup,
  volumeGroup,
];

/** Every command, subcommands (`volume ls`) included. */
export const COMMANDS: readonly Command[] = [...TOP_LEVEL, ...GROUPS.flatMap((group) => group.commands)];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((command) => command.spec.name === name);
}

export function findGroup(name: string): CommandGroup | undefined {
  return GROUPS.find((group) => group.name === name);
}

export function topLevelHelp(): string {
  const width = Math.max(
    ...[...TOP_LEVEL.map((command) => command.spec), ...GROUPS].map((c) => c.name.length),
  );
  return [
    "Usage:  fleet COMMAND [OPTIONS] [ARGS]",
    "",
    "Run and watch containers across a fleet of hosts.",
    "",
    "Management Commands:",
    ...GROUPS.map((group) => `  ${group.name.padEnd(width)}   ${group.summary}`),
    "",
    "Commands:",
    ...TOP_LEVEL.map((command) => `  ${command.spec.name.padEnd(width)}   ${command.spec.summary}`),
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
    const group = failure.command ? findGroup(failure.command) : undefined;
    io.stderr.write(
      command
        ? formatUsageLine(command.spec)
        : group
          ? `Usage:  fleet ${group.name} COMMAND\nRun 'fleet ${group.name} --help' for more information.\n`
          : "Run 'fleet --help' for the list of commands.\n",
    );
  }
}

type TPicked = { kind: "command"; command: Command; argv: string[] } | { kind: "help"; text: string };

/** The command the words name (`ps`, `volume ls`, `volume list`); the rest is its argv. */
function pickCommand(words: readonly string[]): TPicked {
  const [name = "", ...rest] = words;
  const group = findGroup(name);
  if (!group) {
    const command = findCommand(name);
    if (!command) throw new UsageError(`unknown command: ${name}`);
    return { kind: "command", command, argv: rest };
  }
  const [verb, ...argv] = rest;
  if (verb === undefined || verb === "--help" || verb === "-h") {
    return { kind: "help", text: formatGroupHelp(group) };
  }
  if (verb.startsWith("-")) {
    throw new UsageError(`unknown flag: ${verb} (flags go after fleet ${group.name} COMMAND)`, group.name);
  }
  const command = findCommand(`${group.name} ${group.aliases?.[verb] ?? verb}`);
  if (!command) throw new UsageError(`unknown command: fleet ${group.name} ${verb}`, group.name);
  return { kind: "command", command, argv };
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
      if (rest.length === 0) {
        io.stdout.write(topLevelHelp());
        return EXIT.ok;
      }
      const picked = pickCommand(rest.slice(0, 2));
      io.stdout.write(picked.kind === "help" ? picked.text : formatCommandHelp(picked.command.spec));
      return EXIT.ok;
    }
    if (first === "--version" || first === "-v") {
      return (await versionCommand.run(context, parseCommandArgs(versionCommand.spec, []))) ?? EXIT.ok;
    }
    if (first.startsWith("-")) throw new UsageError(`unknown flag: ${first} (flags go after the command)`);
    const picked = pickCommand(argv);
    if (picked.kind === "help") {
      io.stdout.write(picked.text);
      return EXIT.ok;
    }
    const { command } = picked;
    const parsed = parseCommandArgs(command.spec, picked.argv);
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
