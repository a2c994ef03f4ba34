import type { TAuditEventKind, TAuditTarget } from "@fleet/shared/domain/audit";
import type { TUserRole } from "@fleet/shared/domain/roles";
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import type { TEventRow } from "../../events/event-view";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
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
 * not sign one out). Each change of access (role, email, password, disabled)
 * is audited in the same transaction; a change of role or password and
 * disabling also tell open streams of the user that their access changed.
 */
export async function updateUser(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  now: Date;
  id: string;
  changes: TUserChanges;
  keepSessionId?: string | null;
}): Promise<TUserView> {
  const { db, bus, caller, id, changes } = options;
  const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
  const email = changes.email === undefined ? undefined : normalizeEmail(changes.email);
  const { updated, events, accessChanged } = await db.$transaction(async (tx) => {
    await lockAdministrators(tx);
    const user = await tx.user.findUnique({
      where: { id },
      select: { role: true, email: true, disabledAt: true },
    });
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

    const audited: { kind: TAuditEventKind; target?: TAuditTarget }[] = [];
    if (updated.email !== user.email) {
      audited.push({ kind: "audit.user.email-changed", target: { previousEmail: user.email } });
    }
    if (updated.role !== user.role) {
      audited.push({
        kind: "audit.user.role-changed",
        target: { role: updated.role, previousRole: user.role },
      });
    }
    if (passwordHash !== undefined) audited.push({ kind: "audit.user.password-changed" });
    if (!user.disabledAt && updated.disabledAt) audited.push({ kind: "audit.user.disabled" });
    if (user.disabledAt && !updated.disabledAt) audited.push({ kind: "audit.user.enabled" });
    const events: TEventRow[] = [];
    for (const { kind, target } of audited) {
      events.push(
        await recordAuditEvent({
          db: tx,
          kind,
          ...caller,
          target: { userId: id, email: updated.email, ...target },
          ts: options.now,
        }),
      );
    }
    // Enabling and a new name or email take nothing away from credentials already out.
    const accessChanged =
      updated.role !== user.role ||
      passwordHash !== undefined ||
      (!user.disabledAt && updated.disabledAt !== null);
    return { updated, events, accessChanged };
  });
  for (const event of events) bus.publish("event", event);
  // After the commit: a subscriber that re-reads the user sees the change.
  if (accessChanged) bus.publish("access.changed", { userId: id });
  return updated;
}
