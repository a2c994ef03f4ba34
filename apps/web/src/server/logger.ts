// The central's logger: pino, JSON lines on stdout. Services receive it as
// `log` and make children for their own names.
import { type Logger, pino } from "pino";
import type { TEnv } from "./env";

export type { Logger };

export function createLogger(env: Pick<TEnv, "FLEET_LOG_LEVEL">): Logger {
  return pino({ level: env.FLEET_LOG_LEVEL, base: { service: "fleet-central" } });
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
