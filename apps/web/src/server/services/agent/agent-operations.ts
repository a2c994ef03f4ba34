// What services need from the agents' gateway, declared here so that services
// never import the gateway: run a one-off operation on a host's agent, send it
// a build context, know whether it is connected. With several central replicas
// the host's agent may be connected to another one: the implementation the
// composition root hands in (gateway/routed-operations.ts) reaches it there.
import type {
  TOperationInput,
  TOperationKind,
  TOperationResult,
  TOpProgressData,
} from "@fleet/shared/protocol/operations";
import { isAppError } from "../../errors";

export interface AgentOperationOptions {
  /** How long the agent may take (default: the gateway's, at most a day). */
  timeoutMs?: number;
  onProgress?: (data: TOpProgressData) => void;
  /** Aborting sends `op.cancel`; the request then settles with the agent's answer (or `cancelled`). */
  signal?: AbortSignal;
}

export interface AgentOperations {
  /** Runs a one-off operation on the host's agent. Rejects with an `AppError` carrying `opErrorCode`. */
  request<K extends TOperationKind>(
    hostId: string,
    op: Extract<TOperationInput, { kind: K }>,
    options?: AgentOperationOptions,
  ): Promise<TOperationResult<K>>;
  /** Sends a build context ahead of the `image.build` request that names `uploadId`. */
  upload(hostId: string, uploadId: string, bytes: Uint8Array): Promise<void>;
  /** Whether a live central replica (this one or another) holds the host's agent connection. */
  isConnected(hostId: string): Promise<boolean>;
}

/** The agent's reason an operation failed (`conflict`, `not_found`, …), when it is an operation error. */
export function opFailureOf(error: unknown): string | null {
  // Not `instanceof OpError`: the module can load twice in one process (see errors.ts).
  if (!isAppError(error)) return null;
  const code = (error as { opErrorCode?: unknown }).opErrorCode;
  return typeof code === "string" ? code : null;
}
