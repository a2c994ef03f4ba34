/**
 * Secrets handed out by the central (API tokens, join tokens, host credentials,
 * session cookies) are random and high-entropy, so a fast hash (sha256) is the
 * right way to store them: only hashes ever reach the database, and a lookup by
 * hash is an index hit. Passwords are different: see passwords.ts (scrypt).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export type TokenKind = "api" | "join" | "host" | "session";

const PREFIX: Record<TokenKind, string> = {
  api: "fleet_api_",
  join: "fleet_join_",
  host: "fleet_host_",
  session: "fleet_sess_",
};

/** A new secret: a kind prefix (so a leaked token says what it is) and 32 random bytes. */
export function generateToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The first characters of a token, safe to show in lists ("fleet_api_AbC1…"). */
export function tokenDisplayPrefix(token: string): string {
  return `${token.slice(0, PREFIX.api.length + 6)}…`;
}

export function tokenKindOf(token: string): TokenKind | null {
  for (const [kind, prefix] of Object.entries(PREFIX) as [TokenKind, string][]) {
    if (token.startsWith(prefix)) return kind;
  }
  return null;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const bufA = Buffer.from(a);
  const bufB = Buffer.from(b);
  return bufA.length === bufB.length && timingSafeEqual(bufA, bufB);
}
