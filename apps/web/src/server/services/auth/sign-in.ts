// Email and password in, a new session out. The attempt is counted by the
// throttle before the password is checked (see sign-in-throttle.ts).
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { authUserSelect, type TAuthUser, toAuthUser } from "./auth-user";
import { decoyPasswordHash, verifyPassword } from "./passwords";
import { createSession, type TNewSession } from "./sessions";
import type { SignInThrottle, TSignInRefusal } from "./sign-in-throttle";

const WRONG_CREDENTIALS = "wrong email or password";

/** What the audit log hears of a sign-in that did not succeed. */
export type TSignInSetback =
  | { kind: "failed"; email: string; userId: string | null; reason: "wrong-credentials" | "disabled" }
  | { kind: "throttled"; email: string; refusal: TSignInRefusal };

function waitText(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

export async function signIn(options: {
  db: PrismaClient;
  clock: Clock;
  throttle: SignInThrottle;
  email: string;
  password: string;
  clientAddress: string;
  onSetback?: (setback: TSignInSetback) => Promise<void>;
}): Promise<{ user: TAuthUser; session: TNewSession }> {
  const { db, clock, throttle } = options;
  const email = options.email.trim().toLowerCase();
  const attempt = throttle.begin({ email, address: options.clientAddress });
  if (!attempt.ok) {
    if (attempt.firstRefusal) await options.onSetback?.({ kind: "throttled", email, refusal: attempt });
    const whose = attempt.scope === "address" ? "from your address" : "for this account from your address";
    throw new AppError(
      "TOO_MANY_REQUESTS",
      `too many failed sign-ins ${whose}: try again in ${waitText(attempt.retryAfterMs)}`,
    );
  }
  let user: Awaited<ReturnType<typeof findUser>>;
  let matches: boolean;
  try {
    user = await findUser(db, email);
    // Same work whether or not the account exists, so timing does not tell.
    matches = await verifyPassword(options.password, user?.passwordHash ?? (await decoyPasswordHash()));
  } catch (error) {
    attempt.abandoned();
    throw error;
  }
  if (!user || !matches) {
    await options.onSetback?.({
      kind: "failed",
      email,
      userId: user?.id ?? null,
      reason: "wrong-credentials",
    });
    throw new AppError("UNAUTHORIZED", WRONG_CREDENTIALS);
  }
  attempt.succeeded();
  if (user.disabledAt) {
    await options.onSetback?.({ kind: "failed", email, userId: user.id, reason: "disabled" });
    throw new AppError("FORBIDDEN", "this account is disabled");
  }
  const session = await createSession({ db, clock, userId: user.id });
  return { user: toAuthUser(user), session };
}

function findUser(db: PrismaClient, email: string) {
  return db.user.findUnique({ where: { email }, select: { ...authUserSelect, passwordHash: true } });
}
