// Ends the browser session and clears its cookie. Public: signing out with a
// cookie that already expired must still clear it.
import { z } from "zod";
import { deleteSession } from "../../services/auth/sessions";
import { publicProcedure } from "../../trpc";

export const ZSignOutOutput = z.object({ signedOut: z.boolean() });

export const signOut = publicProcedure
  .input(z.void())
  .output(ZSignOutOutput)
  .mutation(async ({ ctx }) => {
    const sessionId = ctx.auth?.sessionId ?? null;
    if (sessionId && ctx.auth) {
      await deleteSession({ db: ctx.db, sessionId });
      // Live views opened with this session close too.
      ctx.bus.publish("access.changed", { userId: ctx.auth.user.id, sessionId });
    }
    ctx.setSessionCookie(null);
    return { signedOut: sessionId !== null };
  });
