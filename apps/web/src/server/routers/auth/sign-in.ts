// Email and password → the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS).
import { z } from "zod";
import { AppError } from "../../errors";
import { recordAuditEvent } from "../../services/audit/record-audit-event";
import { MAX_PASSWORD_LENGTH } from "../../services/auth/passwords";
import { signIn as signInService } from "../../services/auth/sign-in";
import { publicProcedure } from "../../trpc";
import { ZAuthUser } from "./auth-schemas";

export const ZSignInInput = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

function looksLikeEmail(text: string): boolean {
  return /^[^\s@]+@[^\s@]+$/.test(text);
}

export const ZSignInOutput = z.object({ user: ZAuthUser, expiresAt: z.date() });

export const signIn = publicProcedure
  .input(ZSignInInput)
  .output(ZSignInOutput)
  .mutation(async ({ ctx, input }) => {
    // Another site must not sign a visitor's browser in to an account of its choosing.
    if (ctx.crossSite) throw new AppError("FORBIDDEN", "sign in from the dashboard's own page");
    const { user, session } = await signInService({
      db: ctx.db,
      clock: ctx.clock,
      throttle: ctx.services.signInThrottle,
      email: input.email,
      password: input.password,
      clientAddress: ctx.clientAddress,
      onSetback: async (setback) => {
        await recordAuditEvent({
          db: ctx.db,
          bus: ctx.bus,
          kind: setback.kind === "failed" ? "audit.sign-in.failed" : "audit.sign-in.throttled",
          actor: null,
          clientAddress: ctx.clientAddress,
          // What was typed as the email is kept only if it looks like one: a
          // password typed into the wrong field must not land in the log.
          target: {
            ...(looksLikeEmail(setback.email) ? { email: setback.email } : {}),
            ...(setback.kind === "failed" && setback.userId ? { userId: setback.userId } : {}),
          },
          ...(setback.kind === "failed"
            ? { reason: setback.reason === "disabled" ? "account disabled" : "wrong email or password" }
            : {
                reason: `too many failures ${setback.refusal.scope === "address" ? "from this address" : "for this account from this address"}`,
                retryAfterMs: setback.refusal.retryAfterMs,
              }),
        });
      },
    });
    ctx.setSessionCookie(session.token, session.expiresAt);
    ctx.log.info({ userId: user.id }, "signed in");
    return { user, expiresAt: session.expiresAt };
  });
