import type { TUserRole } from "@fleet/shared/domain/roles";
import type { PrismaClient } from "../../db";
import { AppError } from "../../errors";
import { hashPassword } from "../auth/passwords";
import { deleteUserSessions } from "../auth/sessions";
import { assertAnotherActiveAdmin, lockAdministrators } from "./admin-guard";
import { normalizeEmail, type TUserView, userViewSelect } from "./user-view";

export interface TUserChanges {
  email?: string;
  name?: string;
  role?: TUserRole;
  password?: string;
  disabled?: boolean;
}

/**
 * Changes a user. A new password or disabling ends the user's sessions (all
 * but `keepSessionId`, the caller's own, so changing one's own password does
 * not sign one out).
 */
export async function updateUser(options: {
  db: PrismaClient;
  now: Date;
  id: string;
  changes: TUserChanges;
  keepSessionId?: string | null;
}): Promise<TUserView> {
  const { db, id, changes } = options;
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  const email = changes.email === undefined ? undefined : normalizeEmail(changes.email);
  return db.$transaction(async (tx) => {
    await lockAdministrators(tx);
    const user = await tx.user.findUnique({ where: { id }, select: { role: true, disabledAt: true } });
    if (!user) throw new AppError("NOT_FOUND", `no user with id ${id}`);
    const losesAdmin =
      user.role === "admin" &&
      !user.disabledAt &&
      ((changes.role !== undefined && changes.role !== "admin") || changes.disabled === true);
    if (losesAdmin) await assertAnotherActiveAdmin(tx, id, "demote or disable this user");
    if (email !== undefined) {
      const holder = await tx.user.findUnique({ where: { email }, select: { id: true } });
      if (holder && holder.id !== id)
        throw new AppError("CONFLICT", `a user with the email ${email} already exists`);
    }
    const disabledAt =
      changes.disabled === undefined ? undefined : changes.disabled ? (user.disabledAt ?? options.now) : null;
    const updated = await tx.user.update({
      where: { id },
      data: {
        ...(email !== undefined ? { email } : {}),
        ...(changes.name !== undefined ? { name: changes.name.trim() } : {}),
        ...(changes.role !== undefined ? { role: changes.role } : {}),
        ...(passwordHash !== undefined ? { passwordHash } : {}),
        ...(disabledAt !== undefined ? { disabledAt } : {}),
      },
      select: userViewSelect,
    });
    if (passwordHash !== undefined || changes.disabled === true) {
      await deleteUserSessions({ db: tx, userId: id, keepSessionId: options.keepSessionId });
    }
    return updated;
  });
}
