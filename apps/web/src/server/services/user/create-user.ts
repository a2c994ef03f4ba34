import type { TUserRole } from "@fleet/shared/domain/roles";
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordAuditEvent, type TAuditCaller } from "../audit/record-audit-event";
import { hashPassword } from "../auth/passwords";
import { normalizeEmail, type TUserView, userViewSelect } from "./user-view";

export async function createUser(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  caller: TAuditCaller;
  email: string;
  name: string;
  role: TUserRole;
  password: string;
}): Promise<TUserView> {
  const { db, bus, caller } = options;
  const email = normalizeEmail(options.email);
  if (await db.user.findUnique({ where: { email }, select: { id: true } })) {
    throw new AppError("CONFLICT", `a user with the email ${email} already exists`);
  }
  const passwordHash = await hashPassword(options.password);
  const { user, event } = await db.$transaction(async (tx) => {
    const user = await tx.user.create({
      data: { email, name: options.name.trim(), role: options.role, passwordHash },
      select: userViewSelect,
    });
    const event = await recordAuditEvent({
      db: tx,
      kind: "audit.user.created",
      ...caller,
      target: { userId: user.id, email: user.email, role: user.role },
    });
    return { user, event };
  });
  bus.publish("event", event);
  return user;
}
