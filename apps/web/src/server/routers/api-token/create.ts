// A new API token; the secret is in this answer only. People make their own;
// an administrator may make one for someone else (`userId`).

import { roleAtLeast } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { AppError } from "../../errors";
import { createApiToken } from "../../services/api-token/create-api-token";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import { viewerProcedure } from "../../trpc";
import { ZDurationText, ZRowId } from "../common-schemas";
import { ZApiToken } from "./api-token-schemas";

export const ZCreateApiTokenInput = z.object({
  name: z.string().trim().min(1).max(100),
  /** e.g. `90d`; without it the token lives until revoked. */
  expiresIn: ZDurationText({ minMs: 60_000, maxMs: 5 * 365 * 24 * 60 * 60_000 }).optional(),
  userId: ZRowId.optional(),
});

export const ZCreateApiTokenOutput = z.object({
  /** `fleet_api_…`: send it as `Authorization: Bearer <token>`. Shown only here. */
  token: z.string(),
  apiToken: ZApiToken,
});

export const create = viewerProcedure
  .input(ZCreateApiTokenInput)
  .output(ZCreateApiTokenOutput)
  .mutation(({ ctx, input }) => {
    const userId = input.userId ?? ctx.user.id;
    if (userId !== ctx.user.id && !roleAtLeast(ctx.user.role, "admin")) {
      throw new AppError("FORBIDDEN", "only an administrator can create API tokens for someone else");
    }
    const now = new Date(ctx.clock.now());
    const asked = input.expiresIn === undefined ? null : new Date(now.getTime() + input.expiresIn);
    // A token never mints one that outlives it: a leaked short-lived token
    // must not become a permanent one. (Roles cannot rise: a token carries
    // its user's role, and only administrators make tokens for others.)
    const callerExpiresAt = ctx.auth.apiTokenExpiresAt;
    if (callerExpiresAt && (asked === null || asked > callerExpiresAt)) {
      throw new AppError(
        "FORBIDDEN",
        `this API token expires at ${callerExpiresAt.toISOString()}: a token it creates must expire no later (give expiresIn), or sign in to create a longer-lived one`,
      );
    }
    return createApiToken({
      db: ctx.db,
      bus: ctx.bus,
      caller: auditCallerOf(ctx),
      now,
      userId,
      name: input.name,
      expiresAt: asked,
    });
  });
