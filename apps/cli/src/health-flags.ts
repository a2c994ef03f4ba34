// A health check on the command line, in docker's spelling (`--health-cmd`,
// `--health-interval`, `--health-timeout`, `--health-retries`,
// `--health-start-period`) with kubelet's HTTP and TCP probes beside the
// command (`--health-http PORT[/PATH]`, `--health-tcp PORT`), and
// `--restart-on-unhealthy`, a flag of its own because docker's `--restart`
// has no such policy. Every command that describes a container takes them.
import { MAX_HEALTH_PATH_LENGTH, MAX_HEALTH_PERIOD_MS } from "@fleet/shared/domain/container-spec";
import { formatDuration, parseDuration } from "@fleet/shared/units";
import { integerFlag, type OptionSpecs, type OptionValues, parsedFlag } from "./args";
import { UsageError } from "./cli-error";

export const HEALTH_OPTIONS = {
  "health-cmd": {
    type: "string",
    value: "CMD",
    description: "Check health by running CMD in the container with sh -c (exit 0: healthy)",
  },
  "health-http": {
    type: "string",
    value: "PORT[/PATH]",
    description: "Check health with GET PATH (default /) on the container's PORT (2xx, 3xx: healthy)",
  },
  "health-tcp": {
    type: "string",
    value: "PORT",
    description: "Check health by connecting to the container's PORT",
  },
  "health-interval": { type: "string", value: "DURATION", description: "Time between checks (default 30s)" },
  "health-timeout": {
    type: "string",
    value: "DURATION",
    description: "Time a check may take before it counts as failed (default 30s)",
  },
  "health-retries": {
    type: "string",
    value: "N",
    description: "Consecutive failures that make it unhealthy (default 3)",
  },
  "health-start-period": {
    type: "string",
    value: "DURATION",
    description: "Failures in this time after a start do not count (default 0s)",
  },
  "restart-on-unhealthy": {
    type: "boolean",
    description: "Restart the container when its health check turns unhealthy",
  },
} as const satisfies OptionSpecs;

export type THealthFlagValues = OptionValues<typeof HEALTH_OPTIONS>;

export type THealthTestFlag =
  | { type: "exec"; command: string[] }
  | { type: "http"; port: number; path: string }
  | { type: "tcp"; port: number };

/** What the API's `healthCheck` takes; durations in milliseconds. */
export interface THealthCheckFlag {
  test: THealthTestFlag;
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
  restartOnUnhealthy?: boolean;
}

function portOf(text: string, flag: string, command: string): number {
  return integerFlag(text, flag, command, { min: 1, max: 65535 }) as number;
}

function durationFlag(value: string | undefined, flag: string, command: string, min: number) {
  const ms = parsedFlag(value, flag, command, parseDuration);
  if (ms !== undefined && (ms < min || ms > MAX_HEALTH_PERIOD_MS)) {
    throw new UsageError(
      `${flag} must be ${min === 0 ? "0s" : formatDuration(min)} to ${formatDuration(MAX_HEALTH_PERIOD_MS)}, got ${value}`,
      command,
    );
  }
  return ms;
}

function healthTestOf(values: THealthFlagValues, command: string): THealthTestFlag | null {
  const given = (["health-cmd", "health-http", "health-tcp"] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  if (given.length > 1) {
    throw new UsageError(
      `--${given[0]} and --${given[1]} are two kinds of check: give one of --health-cmd, --health-http, --health-tcp`,
      command,
    );
  }
  if (values["health-cmd"] !== undefined) {
    const line = values["health-cmd"].trim();
    if (line === "") throw new UsageError("--health-cmd needs a command", command);
    return { type: "exec", command: ["sh", "-c", line] };
  }
  if (values["health-http"] !== undefined) {
    const text = values["health-http"].trim();
    const slash = text.indexOf("/");
    const port = portOf(slash < 0 ? text : text.slice(0, slash), "--health-http's PORT", command);
    const path = slash < 0 ? "/" : text.slice(slash);
    if (path.length > MAX_HEALTH_PATH_LENGTH || !/^\/[\x21-\x7e]*$/.test(path)) {
      throw new UsageError(
        `--health-http ${text}: the path must hold no spaces or control characters and be at most ${MAX_HEALTH_PATH_LENGTH} characters`,
        command,
      );
    }
    return { type: "http", port, path };
  }
  if (values["health-tcp"] !== undefined) {
    return { type: "tcp", port: portOf(values["health-tcp"].trim(), "--health-tcp", command) };
  }
  return null;
}

/** The health flags → the API's `healthCheck`, undefined when none is given; UsageError on any mistake. */
export function healthCheckOf(values: THealthFlagValues, command: string): THealthCheckFlag | undefined {
  const test = healthTestOf(values, command);
  const interval = durationFlag(values["health-interval"], "--health-interval", command, 100);
  const timeout = durationFlag(values["health-timeout"], "--health-timeout", command, 100);
  const startPeriod = durationFlag(values["health-start-period"], "--health-start-period", command, 0);
  const retries = integerFlag(values["health-retries"], "--health-retries", command, { min: 1, max: 100 });
  const restartOnUnhealthy = values["restart-on-unhealthy"] === true;
  if (!test) {
    const tuning = (
      [
        "health-interval",
        "health-timeout",
        "health-retries",
        "health-start-period",
        "restart-on-unhealthy",
      ] as const
    ).find((flag) => values[flag] !== undefined);
    if (tuning) {
      throw new UsageError(
        `--${tuning} needs a check: --health-cmd CMD, --health-http PORT[/PATH] or --health-tcp PORT`,
        command,
      );
    }
    return undefined;
  }
  return {
    test,
    ...(interval !== undefined ? { interval } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(retries !== undefined ? { retries } : {}),
    ...(startPeriod !== undefined ? { startPeriod } : {}),
    ...(restartOnUnhealthy ? { restartOnUnhealthy } : {}),
  };
}
