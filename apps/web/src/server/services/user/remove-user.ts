// Deletes a user with their sessions, API tokens and join tokens (cascade).
// Events and hosts do not reference users, so history is kept.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
import { assertAnotherActiveAdmin, lockAdministrators } from "./admin-guard";
import { type TUserView, userViewSelect } from "./user-view";

export async function removeUser(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  id: string;
  actorId: string;
}): Promise<TUserView> {
  const { db, bus, caller, id, actorId } = options;
  if (id === actorId) {
    throw new AppError("BAD_REQUEST", "you cannot remove your own account: ask another administrator");
  }
  const { user, event } = await db.$transaction(async (tx) => {
    await lockAdministrators(tx);
    const user = await tx.user.findUnique({ where: { id }, select: userViewSelect });
    if (!user) throw new AppError("NOT_FOUND", `no user with id ${id}`);
    if (user.role === "admin" && !user.disabledAt) await assertAnotherActiveAdmin(tx, id, "remove this user");
    await tx.user.delete({ where: { id } });
    const event = await recordAuditEvent({
      db: tx,
      kind: "audit.user.removed",
      ...caller,
      target: { userId: user.id, email: user.email, role: user.role },
    });
    return { user, event };
  });
  bus.publish("event", event);
  bus.publish("access.changed", { userId: id });
  return user;
}
