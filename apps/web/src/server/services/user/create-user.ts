import type { TUserRole } from "@fleet/shared/domain/roles";
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import { hashPassword } from "../auth/passwords";
import { normalizeEmail, type TUserView, userViewSelect } from "./user-view";

export async function createUser(options: {
  db: PrismaClient;
  email: string;
  name: string;
  role: TUserRole;
  password: string;
}): Promise<TUserView> {
  const { db } = options;
  const email = normalizeEmail(options.email);
  if (await db.user.findUnique({ where: { email }, select: { id: true } })) {
    throw new AppError("CONFLICT", `a user with the email ${email} already exists`);
  }
  const passwordHash = await hashPassword(options.password);
  return db.user.create({
    data: { email, name: options.name.trim(), role: options.role, passwordHash },
    select: userViewSelect,
  });
}
