// The last lines of a container's output, asked of the agent on its host.
import { MAX_LOG_TAIL, type TLogLine } from "@fleet/shared/protocol/operations";
import type { PrismaClient } from "../../db/client";
import type { AgentOperations } from "../agent/agent-operations";
import { resolveLogTarget } from "./logs-target";

export const DEFAULT_LOG_TAIL = 200;
/** The agent reads the engine's log file; it answers well within this unless the host is struggling. */
export const LOGS_TAIL_TIMEOUT_MS = 30_000;

export interface TLogLineView {
  stream: TLogLine["stream"];
  line: string;
  /** When the engine recorded the line; null when it did not say. */
  ts: Date | null;
}

export function toLogLineView(line: TLogLine): TLogLineView {
  return { stream: line.stream, line: line.line, ts: line.ts === undefined ? null : new Date(line.ts) };
}

export async function getContainerLogs(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "isConnected" | "request">;
  containerId: string;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
  since?: Date;
}): Promise<{ lines: TLogLineView[]; truncated: boolean }> {
  const target = await resolveLogTarget(options);
  const tail = Math.min(Math.max(0, options.tail ?? DEFAULT_LOG_TAIL), MAX_LOG_TAIL);
  const result = await options.gateway.request(
    target.hostId,
    {
      kind: "logs",
      containerId: target.containerId,
      tail,
      follow: false,
      stdout: options.stdout ?? true,
      stderr: options.stderr ?? true,
      ...(options.since ? { since: Math.max(0, options.since.getTime()) } : {}),
    },
    { timeoutMs: LOGS_TAIL_TIMEOUT_MS },
  );
  return { lines: result.lines.map(toLogLineView), truncated: result.truncated };
}
