import { z } from "zod";
import { listJoinTokens } from "../../services/join-token/list-join-tokens";
import { adminProcedure } from "../../trpc";

export const ZListJoinTokensInput = z.object({ activeOnly: z.boolean().default(false) }).prefault({});

export const ZJoinToken = z.object({
  id: z.string(),
  state: z.enum(["active", "used", "expired"]),
  labels: z.record(z.string(), z.string()),
  createdAt: z.date(),
  expiresAt: z.date(),
  createdByEmail: z.string(),
  usedAt: z.date().nullable(),
  usedByHostId: z.string().nullable(),
  usedByHostName: z.string().nullable(),
});

export const ZListJoinTokensOutput = z.object({ items: z.array(ZJoinToken) });

export const list = adminProcedure
  .input(ZListJoinTokensInput)
  .output(ZListJoinTokensOutput)
  .query(async ({ ctx, input }) => ({
    items: await listJoinTokens({ db: ctx.db, now: new Date(ctx.clock.now()), activeOnly: input.activeOnly }),
  }));
