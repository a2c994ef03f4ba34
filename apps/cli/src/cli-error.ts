// The exit codes `fleet` promises scripts, and the one error type commands
// throw for an outcome that is expected (a refused token, a name that matches
// nothing): main.ts prints its message as `fleet: …` without a stack trace.

export const EXIT = {
  ok: 0,
  /** The operation failed or the central refused it. */
  failure: 1,
  /** The command line is wrong; nothing was sent. */
  usage: 2,
  /** Not logged in, or the credentials were refused or lack the role. */
  unauthorized: 3,
  notFound: 4,
  /** Ended by Ctrl-C while the outcome was still open. */
  interrupted: 130,
} as const;

export type TExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = "CliError";

  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

/** A mistake on the command line: main.ts prints the command's usage after the message. */
export class UsageError extends CliError {
  override name = "UsageError";

  /** `command`: the command whose usage to show (`run`); the top-level usage when omitted. */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message, EXIT.usage);
  }
}

export function notLoggedIn(): CliError {
  return new CliError(
    "not logged in: run `fleet login <url>` (or set FLEET_URL and FLEET_TOKEN)",
    EXIT.unauthorized,
  );
}
