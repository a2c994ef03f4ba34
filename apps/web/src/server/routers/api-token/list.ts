// Your own tokens; an administrator may list someone's (`userId`) or everyone's (`all`).

import { roleAtLeast } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { AppError } from "../../errors";
import { listApiTokens } from "../../services/api-token/list-api-tokens";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZApiToken } from "./api-token-schemas";

export const ZListApiTokensInput = z
  .object({
    userId: ZRowId.optional(),
    all: z.boolean().default(false),
    activeOnly: z.boolean().default(false),
  })
  .prefault({});

export const ZListApiTokensOutput = z.object({ items: z.array(ZApiToken) });

export const list = viewerProcedure
  .input(ZListApiTokensInput)
  .output(ZListApiTokensOutput)
  .query(async ({ ctx, input }) => {
    const isAdmin = roleAtLeast(ctx.user.role, "admin");
    const othersAsked = input.all || (input.userId !== undefined && input.userId !== ctx.user.id);
    if (othersAsked && !isAdmin) {
      throw new AppError("FORBIDDEN", "only an administrator can list other people's API tokens");
    }
    const userId = input.all ? null : (input.userId ?? ctx.user.id);
    return { items: await listApiTokens({ db: ctx.db, userId, activeOnly: input.activeOnly }) };
  });
