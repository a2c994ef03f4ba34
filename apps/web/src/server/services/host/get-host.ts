import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { hostViewSelect, type THostView, toOneHostView } from "./host-view";

export async function getHost(options: { db: PrismaClient; id: string }): Promise<THostView> {
  const row = await options.db.host.findUnique({ where: { id: options.id }, select: hostViewSelect });
  if (!row) throw new AppError("NOT_FOUND", `no host with id ${options.id}`);
  return toOneHostView(options.db, row);
}
