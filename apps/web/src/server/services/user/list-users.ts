import type { PrismaClient } from "../../db/client";
import { type TUserView, userViewSelect } from "./user-view";

export async function listUsers(options: { db: PrismaClient }): Promise<TUserView[]> {
  return options.db.user.findMany({ select: userViewSelect, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
}
