/**
 * Turns what dockerode throws into a DriverError that carries the engine's own
 * message and HTTP status and nothing of dockerode's internals (its messages
 * look like `(HTTP code 404) no such container - No such image: x `).
 */
import { DriverError, type DriverErrorCode } from "../driver";

export class EngineError extends DriverError {
  override readonly name = "EngineError";
}

interface DockerodeLikeError {
  statusCode?: unknown;
  json?: unknown;
  message?: unknown;
  code?: unknown;
}

/** The engine's message inside a dockerode error, without dockerode's `(HTTP code N) reason - ` wrapper. */
export function engineMessageOf(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const e = err as DockerodeLikeError;
  const json = e.json;
  if (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string") {
    return json.message.trim();
  }
  const message = typeof e.message === "string" ? e.message : String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim() || message;
}

export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const status = (err as DockerodeLikeError).statusCode;
  return typeof status === "number" ? status : undefined;
}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE"]);

export function isNameConflict(err: unknown): boolean {
  // Docker answers 409; Podman 4 answers 500 with "that name is already in use".
  const status = statusCodeOf(err);
  return (status === 409 || status === 500) && /name .*is already in use/i.test(engineMessageOf(err));
}

export function isAbortError(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { name?: unknown }).name === "AbortError";
}

/**
 * Wraps an engine failure. `action` says what was attempted ("start fleet-c1");
 * `notFound` is the code a 404 means here (a missing container or image).
 */
export function toEngineError(
  err: unknown,
  action: string,
  opts: { notFound?: DriverErrorCode; code?: DriverErrorCode } = {},
): DriverError {
  // Already the driver's own (an engine error, or a refusal of the agent's checks): kept as it is.
  if (err instanceof DriverError) return err;
  const statusCode = statusCodeOf(err);
  const message = engineMessageOf(err);
  const sysCode = typeof err === "object" && err !== null ? (err as DockerodeLikeError).code : undefined;
  let code: DriverErrorCode = opts.code ?? "engine";
  if (typeof sysCode === "string" && UNREACHABLE.has(sysCode)) code = "unavailable";
  else if (statusCode === 404) code = opts.notFound ?? "not-found";
  else if (isNameConflict(err)) code = "name-conflict";
  else if (statusCode === 409) code = "conflict";
  return new EngineError(
    code,
    `${action} failed: ${message}`,
    statusCode === undefined ? {} : { statusCode },
  );
}
