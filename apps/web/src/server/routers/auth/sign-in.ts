// Email and password → the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS).
import { z } from "zod";
import { MAX_PASSWORD_LENGTH } from "../../services/auth/passwords";
import { signIn as signInService } from "../../services/auth/sign-in";
import { publicProcedure } from "../../trpc";
import { ZAuthUser } from "./auth-schemas";

export const ZSignInInput = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export const ZSignInOutput = z.object({ user: ZAuthUser, expiresAt: z.date() });

export const signIn = publicProcedure
  .input(ZSignInInput)
  .output(ZSignInOutput)
  .mutation(async ({ ctx, input }) => {
    const { user, session } = await signInService({
      db: ctx.db,
      clock: ctx.clock,
      throttle: ctx.services.signInThrottle,
      email: input.email,
      password: input.password,
    });
    ctx.setSessionCookie(session.token, session.expiresAt);
    ctx.log.info({ userId: user.id }, "signed in");
    return { user, expiresAt: session.expiresAt };
  });
