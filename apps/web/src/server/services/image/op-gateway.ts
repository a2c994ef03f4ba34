// The part of the gateway image and log services use: run an operation on a
// host's agent, send it a build context, know whether it is connected.
import { isAppError } from "../../errors";
import type { Gateway } from "../../gateway/gateway";

export type OpGateway = Pick<Gateway, "request" | "upload" | "isConnected">;

/** The agent's reason an operation failed (`conflict`, `not_found`, …), when it is an operation error. */
export function opFailureOf(error: unknown): string | null {
  // Not `instanceof OpError`: the module can load twice in one process (see errors.ts).
  if (!isAppError(error)) return null;
  const code = (error as { opErrorCode?: unknown }).opErrorCode;
  return typeof code === "string" ? code : null;
}
