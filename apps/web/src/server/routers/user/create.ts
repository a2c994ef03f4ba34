import { ZUserRole } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import { createUser } from "../../services/user/create-user";
import { adminProcedure } from "../../trpc";
import { ZEmail, ZPassword, ZUser, ZUserName } from "./user-schemas";

export const ZCreateUserInput = z.object({
  email: ZEmail,
  name: ZUserName,
  role: ZUserRole.default("viewer"),
  password: ZPassword,
});

export const create = adminProcedure
  .input(ZCreateUserInput)
  .output(ZUser)
  .mutation(({ ctx, input }) =>
    createUser({ db: ctx.db, bus: ctx.bus, caller: auditCallerOf(ctx), ...input }),
  );
