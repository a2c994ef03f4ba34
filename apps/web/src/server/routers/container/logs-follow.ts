// container.logsFollow — a container's output as it is written, over SSE.
// Each line is `tracked(<resume id>, line)`; a client that reconnects sends
// the last id back (tRPC does this by itself) and continues after that line
// without repeats or gaps when the engine timestamps lines (see
// services/container/logs-follow-container.ts for the exceptions). Closing
// the stream cancels the agent's follow.
import { MAX_LOG_TAIL } from "@fleet/shared/protocol/operations";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { DEFAULT_FOLLOW_TAIL, followContainerLogs } from "../../services/container/logs-follow-container";
import { viewerProcedure } from "../../trpc";
import { zTrackedAsyncIterable } from "../async-iterable-output";
import { ZRowId } from "../common-schemas";
import { ZLogLineView } from "./logs";

export const ZFollowContainerLogsInput = z
  .object({
    id: ZRowId,
    /** Lines from before the follow to start with. */
    tail: z.int().min(0).max(MAX_LOG_TAIL).default(DEFAULT_FOLLOW_TAIL),
    stdout: z.boolean().default(true),
    stderr: z.boolean().default(true),
    lastEventId: z.string().max(64).nullish(),
  })
  .refine((input) => input.stdout || input.stderr, {
    error: "ask for stdout, stderr or both",
    path: ["stdout"],
  });

export const logsFollow = viewerProcedure
  .input(ZFollowContainerLogsInput)
  .output(zTrackedAsyncIterable(ZLogLineView))
  .subscription(async function* ({ ctx, input, signal }) {
    for await (const { resumeId, line } of followContainerLogs({
      db: ctx.db,
      gateway: ctx.services.agents,
      containerId: input.id,
      tail: input.tail,
      stdout: input.stdout,
      stderr: input.stderr,
      resumeAfter: input.lastEventId ?? null,
      signal,
    })) {
      yield tracked(resumeId, line);
    }
  });
