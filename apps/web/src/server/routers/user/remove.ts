import { z } from "zod";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import { removeUser } from "../../services/user/remove-user";
import { adminProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZUser } from "./user-schemas";

export const ZRemoveUserInput = z.object({ id: ZRowId });

export const remove = adminProcedure
  .input(ZRemoveUserInput)
  .output(ZUser)
  .mutation(({ ctx, input }) =>
    removeUser({ db: ctx.db, bus: ctx.bus, caller: auditCallerOf(ctx), id: input.id, actorId: ctx.user.id }),
  );
