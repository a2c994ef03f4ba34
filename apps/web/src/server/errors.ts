// The one error type services throw. Codes use tRPC's names so trpc.ts's
// errorFormatter can map them one to one, but services never import tRPC:
// they are also called from the gateway, background jobs and tests.
import type { z } from "zod";

export const APP_ERROR_CODES = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PRECONDITION_FAILED",
  "TOO_MANY_REQUESTS",
  "INTERNAL_SERVER_ERROR",
  // 503: the central cannot do it now (its database is unreachable); the same call later may succeed.
  "SERVICE_UNAVAILABLE",
] as const;
export type TAppErrorCode = (typeof APP_ERROR_CODES)[number];

// A brand instead of `instanceof` alone: this module can load twice in one
// process (server.ts and the Next.js bundle), giving two AppError classes.
const APP_ERROR_BRAND = Symbol.for("fleet.app-error");

export class AppError extends Error {
  override name = "AppError";
  readonly [APP_ERROR_BRAND] = true;
  readonly code: TAppErrorCode;

  /** `message` is shown to the caller as is: write it for a person, and put no secrets in it. */
  constructor(code: TAppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isAppError(error: unknown): error is AppError {
  return (
    typeof error === "object" &&
    error !== null &&
    (error as { [APP_ERROR_BRAND]?: unknown })[APP_ERROR_BRAND] === true &&
    APP_ERROR_CODES.includes((error as AppError).code)
  );
}

// Zod 4's issue union, reduced to what a message needs; also fits Standard
// Schema issues (path of keys, a message).
type TIssue = z.core.$ZodIssue | { message: string; path?: readonly PropertyKey[] | undefined };

const MAX_ISSUES_IN_MESSAGE = 5;

function describePath(path: readonly PropertyKey[] | undefined): string {
  if (!path || path.length === 0) return "input";
  return path
    .map((key, index) => {
      if (typeof key === "number") return `[${key}]`;
      const text = typeof key === "symbol" ? (key.description ?? "?") : key;
      return index === 0 ? text : `.${text}`;
    })
    .join("");
}

// Zod's own English messages; anything else was written by a schema's author
// for people and is kept as is.
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (small|big)|Unrecognized key)/;

function describeIssue(issue: TIssue): string {
  if (!("code" in issue) || !ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      // Without reportInput zod keeps no input; its message still names it.
      return /received undefined$/.test(issue.message) ? "is required" : `must be ${article(issue.expected)}`;
    case "too_small": {
      const min = Number(issue.minimum);
      if (issue.origin === "string") {
        return min <= 1 ? "must not be empty" : `must be at least ${min} characters`;
      }
      if (issue.origin === "array" || issue.origin === "set") {
        return min <= 1 ? "must not be empty" : `must have at least ${min} items`;
      }
      return issue.inclusive === false ? `must be greater than ${min}` : `must be at least ${min}`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (issue.origin === "string") return `must be at most ${max} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `must have at most ${max} items`;
      return issue.inclusive === false ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case "invalid_format":
      return issue.format === "email" ? "must be an email address" : `must be a valid ${issue.format}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.join(", ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      // custom refinements (label keys, selectors, units) already speak to people.
      return issue.message;
  }
}

function article(expected: string): string {
  if (expected === "int") return "a whole number";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** `image: must not be empty; cpus: must be at least 1` — one line a person can act on. */
export function describeIssues(issues: readonly TIssue[]): string {
  const parts = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((issue) => {
    const where = describePath(issue.path as readonly PropertyKey[] | undefined);
    return `${where}: ${describeIssue(issue)}`;
  });
  const more = issues.length - MAX_ISSUES_IN_MESSAGE;
  if (more > 0) parts.push(`and ${more} more problem${more === 1 ? "" : "s"}`);
  return parts.join("; ");
}
