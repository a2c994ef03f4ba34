import { z } from "zod";
import { listUsers } from "../../services/user/list-users";
import { adminProcedure } from "../../trpc";
import { ZUser } from "./user-schemas";

export const ZListUsersOutput = z.object({ items: z.array(ZUser) });

export const list = adminProcedure
  .input(z.void())
  .output(ZListUsersOutput)
  .query(async ({ ctx }) => ({ items: await listUsers({ db: ctx.db }) }));
