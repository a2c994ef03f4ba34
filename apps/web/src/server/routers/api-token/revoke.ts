// Revokes one of your tokens (an administrator: anyone's). It stops working at once.

import { roleAtLeast } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { revokeApiToken } from "../../services/api-token/revoke-api-token";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZApiToken } from "./api-token-schemas";

export const ZRevokeApiTokenInput = z.object({ id: ZRowId });

export const revoke = viewerProcedure
  .input(ZRevokeApiTokenInput)
  .output(ZApiToken)
  .mutation(({ ctx, input }) =>
    revokeApiToken({
      db: ctx.db,
      bus: ctx.bus,
      caller: auditCallerOf(ctx),
      now: new Date(ctx.clock.now()),
      id: input.id,
      ownerId: roleAtLeast(ctx.user.role, "admin") ? null : ctx.user.id,
    }),
  );
