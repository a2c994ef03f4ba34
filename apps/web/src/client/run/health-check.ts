// The health check section as the run form and a deployment's edit form both
// hold it, and its fields as the API's `healthCheck` input (one schema for
// container.run, deployment.create and deployment.update), so the two forms
// cannot come to read the same fields differently.
import type { RouterInputs } from "../api-types";

export type THealthChoice = "none" | "exec" | "http" | "tcp";

export interface THealthFieldValues {
  healthType: THealthChoice;
  /** exec: one shell line, run with `sh -c` (docker's `--health-cmd`). */
  healthCommand: string;
  /** http and tcp: the container's port. */
  healthPort: string;
  /** http: the path to GET; `/` when empty. */
  healthPath: string;
  /** Durations as docker writes them (`5s`, `1m30s`); empty: the default. */
  healthInterval: string;
  healthTimeout: string;
  healthRetries: string;
  healthStartPeriod: string;
  healthRestart: boolean;
}

export const EMPTY_HEALTH_FIELDS: THealthFieldValues = {
  healthType: "none",
  healthCommand: "",
  healthPort: "",
  healthPath: "",
  healthInterval: "",
  healthTimeout: "",
  healthRetries: "",
  healthStartPeriod: "",
  healthRestart: false,
};

export const HEALTH_FIELDS = Object.keys(EMPTY_HEALTH_FIELDS) as (keyof THealthFieldValues)[];

type THealthCheckInput = NonNullable<RouterInputs["container"]["run"]["healthCheck"]>;

type THealthCheckRequest =
  | { ok: true; check: THealthCheckInput | null }
  | { ok: false; field: keyof THealthFieldValues; message: string };

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

/**
 * The section as the API's `healthCheck` (null for none), or the first
 * problem the API cannot word for the form. Durations go as typed: the API
 * reads them and names the field of a mistake.
 */
export function healthCheckInputOf(values: THealthFieldValues): THealthCheckRequest {
  if (values.healthType === "none") return { ok: true, check: null };
  let test: THealthCheckInput["test"];
  if (values.healthType === "exec") {
    const line = values.healthCommand.trim();
    if (line === "")
      return {
        ok: false,
        field: "healthCommand",
        message: "Health command: enter a command, e.g. pg_isready",
      };
    test = { type: "exec", command: line };
  } else {
    const port = wholeNumber(values.healthPort);
    if (port === null || port < 1 || port > 65535)
      return {
        ok: false,
        field: "healthPort",
        message: "Health port: must be a port number from 1 to 65535",
      };
    const path = values.healthPath.trim();
    test =
      values.healthType === "http"
        ? { type: "http", port, ...(path !== "" ? { path: path.startsWith("/") ? path : `/${path}` } : {}) }
        : { type: "tcp", port };
  }
  let retries: number | undefined;
  if (values.healthRetries.trim() !== "") {
    const parsed = wholeNumber(values.healthRetries);
    if (parsed === null)
      return { ok: false, field: "healthRetries", message: "Health retries: must be a whole number" };
    retries = parsed;
  }
  const duration = (text: string) => (text.trim() === "" ? undefined : text.trim());
  const interval = duration(values.healthInterval);
  const timeout = duration(values.healthTimeout);
  const startPeriod = duration(values.healthStartPeriod);
  return {
    ok: true,
    check: {
      test,
      ...(interval !== undefined ? { interval } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
      ...(retries !== undefined ? { retries } : {}),
      ...(startPeriod !== undefined ? { startPeriod } : {}),
      ...(values.healthRestart ? { restartOnUnhealthy: true } : {}),
    },
  };
}
