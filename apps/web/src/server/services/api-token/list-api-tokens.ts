import type { PrismaClient } from "../../db/client";
import { apiTokenViewSelect, type TApiTokenView, toApiTokenView } from "./api-token-view";

/** Tokens of one user, or of everyone when `userId` is null; revoked ones too, unless `activeOnly`. */
export async function listApiTokens(options: {
  db: PrismaClient;
  userId: string | null;
  activeOnly?: boolean;
}): Promise<TApiTokenView[]> {
  const rows = await options.db.apiToken.findMany({
    where: {
      ...(options.userId !== null ? { userId: options.userId } : {}),
      ...(options.activeOnly ? { revokedAt: null } : {}),
    },
    select: apiTokenViewSelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return rows.map(toApiTokenView);
}
