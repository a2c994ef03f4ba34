// A container's output as it is written: one `logs` operation with
// `follow: true` whose progress frames are the lines. It lives as long as the
// caller iterates; when the caller stops (a browser closing the stream aborts
// `signal`) the operation is cancelled, which tells the agent to stop reading.
//
// Every line carries a resume id `<ts>-<k>` (the engine's timestamp in ms and
// how many earlier lines had that same timestamp) or `n<seq>` when the engine
// gave no timestamp. Resuming after `<ts>-<k>` asks the agent for lines since
// `ts` and drops what was already delivered, so a reconnect neither repeats
// nor skips lines — unless more than MAX_LOG_TAIL lines were written while the
// reader was away (the oldest of them are skipped) or the line had no
// timestamp (a fresh tail is sent instead, which may repeat lines).
//
// A follow asked for right after a run can reach the agent before it has
// created the container; it waits until the container is created, as
// `docker logs -f` of a just-run container does, instead of failing.
import { type Clock, sleep, systemClock } from "@fleet/shared/clock";
import { MAX_LOG_TAIL, MAX_OP_TIMEOUT_MS, type TLogLine } from "@fleet/shared/protocol/operations";
import type { PrismaClient } from "../../db/client";
import { isAppError } from "../../errors";
import { type AgentOperations, opFailureOf } from "../agent/agent-operations";
import { createProgressQueue } from "../image/progress-queue";
import { type TLogLineView, toLogLineView } from "./logs-container";
import { resolveLogTarget } from "./logs-target";

export const DEFAULT_FOLLOW_TAIL = 100;
/** Lines held for a reader that is slower than the container writes; older ones are dropped past it. */
export const FOLLOW_BUFFER_LINES = 2000;
/** How often a follow of a container not created yet asks its agent again. */
export const NOT_CREATED_RETRY_MS = 500;
/** The states before the agent has the container in its engine. */
const NOT_CREATED_STATES = new Set(["pending", "pulling", "creating"]);

export interface TFollowedLogLine {
  /** Pass back as `resumeAfter` (tRPC: the tracked id / Last-Event-ID) to continue after this line. */
  resumeId: string;
  line: TLogLineView;
}

interface TResumePoint {
  ts: number;
  /** Lines with timestamp `ts` already delivered. */
  seenAtTs: number;
}

export function parseLogResumeId(id: string | null | undefined): TResumePoint | null {
  const match = id ? /^(\d{1,15})-(\d{1,9})$/.exec(id) : null;
  if (!match) return null;
  return { ts: Number(match[1]), seenAtTs: Number(match[2]) + 1 };
}

export async function* followContainerLogs(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "isConnected" | "request">;
  containerId: string;
  tail?: number;
  stdout?: boolean;
  stderr?: boolean;
  /** The last resume id the reader got (on reconnect). */
  resumeAfter?: string | null;
  signal?: AbortSignal;
  bufferLines?: number;
  clock?: Clock;
}): AsyncGenerator<TFollowedLogLine, void, undefined> {
  const { db, gateway, signal } = options;
  const target = await resolveLogTarget(options);
  const resume = parseLogResumeId(options.resumeAfter);
  const queue = createProgressQueue<TLogLine>(options.bufferLines ?? FOLLOW_BUFFER_LINES);
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  signal?.addEventListener("abort", onAbort, { once: true });

  /** Whether the agent's not_found means it has not created the container yet (it is still on its way there). */
  const notCreatedYet = async (error: unknown): Promise<boolean> => {
    if (opFailureOf(error) !== "not_found") return false;
    const row = await db.container.findUnique({
      where: { id: target.containerId },
      select: { actualState: true, hostId: true, removedAt: true },
    });
    return !!row && row.hostId === target.hostId && !row.removedAt && NOT_CREATED_STATES.has(row.actualState);
  };

  const logsOp = {
    kind: "logs",
    containerId: target.containerId,
    follow: true,
    tail: resume ? MAX_LOG_TAIL : Math.min(Math.max(0, options.tail ?? DEFAULT_FOLLOW_TAIL), MAX_LOG_TAIL),
    stdout: options.stdout ?? true,
    stderr: options.stderr ?? true,
    ...(resume ? { since: resume.ts } : {}),
  } as const;
  async function follow(): Promise<void> {
    for (;;) {
      try {
        await gateway.request(target.hostId, logsOp, {
          timeoutMs: MAX_OP_TIMEOUT_MS,
          signal: cancel.signal,
          onProgress: (data) => {
            if (data.kind === "log") queue.push({ stream: data.stream, line: data.line, ts: data.ts });
          },
        });
        return queue.end();
      } catch (error) {
        // Our own cancel ends the follow; anything else is the reader's to see.
        if (cancel.signal.aborted && isAppError(error)) return queue.end();
        if (!(await notCreatedYet(error).catch(() => false))) return queue.end(error);
      }
      try {
        await sleep(options.clock ?? systemClock, NOT_CREATED_RETRY_MS, cancel.signal);
      } catch {
        return queue.end();
      }
    }
  }
  const operation = follow();

  let lastTs: number | null = null;
  let sameTs = 0;
  let seq = 0;
  try {
    for (;;) {
      const next = await queue.next(signal);
      if (next.done) return;
      if (next.dropped > 0) {
        seq++;
        yield {
          resumeId: `n${seq}`,
          line: {
            stream: "stderr",
            line: `[fleet] ${next.dropped} log lines dropped: this reader is slower than the container writes`,
            ts: null,
          },
        };
      }
      const line = next.value;
      seq++;
      if (line.ts === undefined) {
        yield { resumeId: `n${seq}`, line: toLogLineView(line) };
        continue;
      }
      if (line.ts === lastTs) sameTs++;
      else {
        lastTs = line.ts;
        sameTs = 1;
      }
      // The agent's `since` is inclusive: what the reader already had comes again; drop it.
      if (resume && (line.ts < resume.ts || (line.ts === resume.ts && sameTs <= resume.seenAtTs))) continue;
      yield { resumeId: `${line.ts}-${sameTs - 1}`, line: toLogLineView(line) };
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    cancel.abort();
    // Settles with the agent's answer to the cancel (or the broker's grace timeout); nobody waits for it.
    void operation;
  }
}
