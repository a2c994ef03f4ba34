// Who the caller is; null when anonymous. Public so the dashboard can ask
// before it knows whether to show the sign-in form.
import { z } from "zod";
import { publicProcedure } from "../../trpc";
import { ZAuthUser } from "./auth-schemas";

export const ZMeOutput = z.object({
  user: ZAuthUser.nullable(),
  via: z.enum(["session", "apiToken"]).nullable(),
});

export const me = publicProcedure
  .input(z.void())
  .output(ZMeOutput)
  .query(({ ctx }) => ({ user: ctx.auth?.user ?? null, via: ctx.auth?.via ?? null }));
