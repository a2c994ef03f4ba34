/**
 * First start: a central without users gets one administrator, so someone can
 * sign in. With FLEET_BOOTSTRAP_TOKEN that token becomes the administrator's
 * API token (for automated installs); otherwise a generated password is
 * printed once to the log. Runs under an advisory lock, so centrals starting
 * together create one administrator, and does nothing once any user exists.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "@fleet/shared/clock";
import type { PrismaClient } from "../../db/client";
import type { TEnv } from "../../env";
import type { Logger } from "../../logger";
import { hashToken, tokenDisplayPrefix, tokenKindOf } from "../../tokens";
import { generatePassword, hashPassword } from "./passwords";

/**
 * A made-up email nobody can guess, so a stranger cannot aim guesses (or
 * throttling) at the administrator's account by its well-known name.
 */
export function generatedAdminEmail(): string {
  return `admin-${randomBytes(5).toString("hex")}@fleet.local`;
}
export const BOOTSTRAP_TOKEN_NAME = "bootstrap";
// Arbitrary, fixed: the key of the advisory lock that serializes bootstraps.
const BOOTSTRAP_LOCK_KEY = 72_707_370;

export type TBootstrapResult =
  | { created: false }
  | { created: true; userId: string; email: string; credential: "token" }
  // The generated password is returned too so a launcher (`npm run up`) can show it.
  | { created: true; userId: string; email: string; credential: "password"; password: string };

export async function bootstrapFirstAdmin(options: {
  db: PrismaClient;
  env: Pick<TEnv, "FLEET_BOOTSTRAP_TOKEN" | "FLEET_PUBLIC_URL" | "FLEET_ADMIN_EMAIL">;
  log: Logger;
  clock: Clock;
}): Promise<TBootstrapResult> {
  const { db, env, log, clock } = options;
  if ((await db.user.count()) > 0) return { created: false };

  const password = env.FLEET_BOOTSTRAP_TOKEN ? null : generatePassword();
  // With a token nobody signs in with a password until an administrator sets
  // one, so the stored hash is of a random secret that is never shown.
  const passwordHash = await hashPassword(password ?? generatePassword());

  const result = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY}::bigint)`;
    if ((await tx.user.count()) > 0) return null;
    const user = await tx.user.create({
      data: {
        email: env.FLEET_ADMIN_EMAIL ?? generatedAdminEmail(),
        name: "Administrator",
        role: "admin",
        passwordHash,
      },
      select: { id: true, email: true },
    });
    if (env.FLEET_BOOTSTRAP_TOKEN) {
      await tx.apiToken.create({
        data: {
          userId: user.id,
          name: BOOTSTRAP_TOKEN_NAME,
          tokenHash: hashToken(env.FLEET_BOOTSTRAP_TOKEN),
          // A token without Fleet's prefix shows only 4 characters: it may be short.
          prefix: tokenKindOf(env.FLEET_BOOTSTRAP_TOKEN)
            ? tokenDisplayPrefix(env.FLEET_BOOTSTRAP_TOKEN)
            : `${env.FLEET_BOOTSTRAP_TOKEN.slice(0, 4)}…`,
          createdAt: new Date(clock.now()),
        },
      });
    }
    return user;
  });
  if (!result) return { created: false };

  if (password) {
    log.warn(
      { email: result.email },
      `first start: created the administrator ${result.email} with the password ${password} (shown only this once)`,
    );
    log.warn(
      `sign in at ${env.FLEET_PUBLIC_URL} as ${result.email} with that password, then create your own accounts and API tokens`,
    );
    return { created: true, userId: result.id, email: result.email, credential: "password", password };
  }
  log.info(
    { email: result.email },
    `first start: created the administrator ${result.email}; FLEET_BOOTSTRAP_TOKEN is its API token (Authorization: Bearer)`,
  );
  return { created: true, userId: result.id, email: result.email, credential: "token" };
}
