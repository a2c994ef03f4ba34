// Email and password in, a new session out.
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import { authUserSelect, type TAuthUser, toAuthUser } from "./auth-user";
import { decoyPasswordHash, verifyPassword } from "./passwords";
import { createSession, type TNewSession } from "./sessions";
import type { SignInThrottle } from "./sign-in-throttle";

const WRONG_CREDENTIALS = "wrong email or password";

export async function signIn(options: {
  db: PrismaClient;
  clock: Clock;
  throttle: SignInThrottle;
  email: string;
  password: string;
}): Promise<{ user: TAuthUser; session: TNewSession }> {
  const { db, clock, throttle } = options;
  const email = options.email.trim().toLowerCase();
  const waitMs = throttle.retryAfterMs(email);
  if (waitMs > 0) {
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `too many failed sign-ins for this account: try again in ${Math.ceil(waitMs / 60_000)} min`,
    );
  }
  const user = await db.user.findUnique({
    where: { email },
    select: { ...authUserSelect, passwordHash: true },
  });
  // Same work whether or not the account exists, so timing does not tell.
  const matches = await verifyPassword(options.password, user?.passwordHash ?? (await decoyPasswordHash()));
  if (!user || !matches) {
    throttle.recordFailure(email);
    throw new AppError("UNAUTHORIZED", WRONG_CREDENTIALS);
  }
  if (user.disabledAt) throw new AppError("FORBIDDEN", "this account is disabled");
  throttle.recordSuccess(email);
  const session = await createSession({ db, clock, userId: user.id });
  return { user: toAuthUser(user), session };
}
