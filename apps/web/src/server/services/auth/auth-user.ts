// The signed-in person as every procedure sees it.

import type { TUserRole } from "@fleet/shared/domain/roles";
import type { Prisma } from "../../db/client";

export interface TAuthUser {
  id: string;
  email: string;
  name: string;
  role: TUserRole;
}

export type TAuthVia = "session" | "apiToken";

export interface TAuth {
  user: TAuthUser;
  via: TAuthVia;
  /** The session row (hash of the cookie token) when signed in through the browser. */
  sessionId: string | null;
  /** The API token row when called with `Authorization: Bearer`. */
  apiTokenId: string | null;
  /** When the API token expires (null: never, or not a token): what it creates may not outlive it. */
  apiTokenExpiresAt: Date | null;
}

export const authUserSelect = {
  id: true,
  email: true,
  name: true,
  role: true,
  disabledAt: true,
} satisfies Prisma.UserSelect;

export function toAuthUser(user: { id: string; email: string; name: string; role: TUserRole }): TAuthUser {
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
