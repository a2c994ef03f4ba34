import { ZUserRole } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import { updateUser } from "../../services/user/update-user";
import { adminProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZEmail, ZPassword, ZUser, ZUserName } from "./user-schemas";

export const ZUpdateUserInput = z
  .object({
    id: ZRowId,
    email: ZEmail.optional(),
    name: ZUserName.optional(),
    role: ZUserRole.optional(),
    password: ZPassword.optional(),
    /** true disables the account (its sessions end, its API tokens stop working); false enables it. */
    disabled: z.boolean().optional(),
  })
  .refine((input) => Object.keys(input).some((key) => key !== "id"), {
    message: "name at least one thing to change",
  });

export const update = adminProcedure
  .input(ZUpdateUserInput)
  .output(ZUser)
  .mutation(({ ctx, input }) => {
    const { id, ...changes } = input;
    return updateUser({
      db: ctx.db,
      bus: ctx.bus,
      caller: auditCallerOf(ctx),
      now: new Date(ctx.clock.now()),
      id,
      changes,
      keepSessionId: ctx.auth.sessionId,
    });
  });
