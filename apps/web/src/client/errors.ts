// What went wrong, in words, for an inline error: tRPC errors carry the
// server's message (already written for people by the errorFormatter).
import { TRPCClientError } from "@trpc/client";

export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) return error.message || "The request failed.";
  if (error instanceof Error) return error.message;
  return String(error);
}

export function errorCode(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) {
    const code = (error.data as { code?: unknown } | undefined)?.code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

export function isUnauthorized(error: unknown): boolean {
  return errorCode(error) === "UNAUTHORIZED";
}
