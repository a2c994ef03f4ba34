// container.logs — the last lines of a container's output, from its host's agent.
import { MAX_LOG_TAIL } from "@fleet/shared/protocol/operations";
import { z } from "zod";
import { DEFAULT_LOG_TAIL, getContainerLogs } from "../../services/container/logs-container";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";

export const ZLogLineView = z.object({
  stream: z.enum(["stdout", "stderr"]),
  line: z.string(),
  /** When the engine recorded the line; null when it did not say. */
  ts: z.date().nullable(),
});

export const ZContainerLogsInput = z
  .object({
    id: ZRowId,
    tail: z.int().min(0).max(MAX_LOG_TAIL).default(DEFAULT_LOG_TAIL),
    stdout: z.boolean().default(true),
    stderr: z.boolean().default(true),
    /** Only lines written at or after this time. */
    since: z.date().optional(),
  })
  .refine((input) => input.stdout || input.stderr, {
    error: "ask for stdout, stderr or both",
    path: ["stdout"],
  });

export const logs = viewerProcedure
  .input(ZContainerLogsInput)
  .output(
    z.object({
      lines: z.array(ZLogLineView),
      /** True when older lines were left out to keep the answer within the agent's size limit. */
      truncated: z.boolean(),
    }),
  )
  .query(({ ctx, input }) =>
    getContainerLogs({
      db: ctx.db,
      gateway: ctx.services.agents,
      containerId: input.id,
      tail: input.tail,
      stdout: input.stdout,
      stderr: input.stderr,
      ...(input.since ? { since: input.since } : {}),
    }),
  );
