// Small factories for rows tests need; each fills in what the test does not care about.
import { randomBytes } from "node:crypto";
import type { TUserRole } from "@fleet/shared/domain/roles";
import type { Prisma, PrismaClient } from "../db/client";
import { createApiToken } from "../services/api-token/create-api-token";
import { hashPassword } from "../services/auth/passwords";

let sequence = 0;
const unique = () => `${++sequence}-${randomBytes(3).toString("hex")}`;

export async function createTestUser(options: {
  db: PrismaClient;
  role: TUserRole;
  email?: string;
  password?: string;
  disabled?: boolean;
}): Promise<{ id: string; email: string; password: string; role: TUserRole }> {
  const password = options.password ?? `pw-${randomBytes(9).toString("base64url")}`;
  const email = options.email ?? `${options.role}-${unique()}@example.test`;
  const user = await options.db.user.create({
    data: {
      email,
      name: `Test ${options.role}`,
      role: options.role,
      passwordHash: await hashPassword(password),
      disabledAt: options.disabled ? new Date() : null,
    },
    select: { id: true },
  });
  return { id: user.id, email, password, role: options.role };
}

/** A user of `role` and an API token of theirs. */
export async function createTestUserWithToken(options: {
  db: PrismaClient;
  role: TUserRole;
}): Promise<{ userId: string; email: string; token: string }> {
  const user = await createTestUser(options);
  const { token } = await createApiToken({
    db: options.db,
    bus: { publish() {} },
    caller: { actor: { userId: user.id, email: user.email }, clientAddress: "127.0.0.1" },
    now: new Date(),
    userId: user.id,
    name: "test",
  });
  return { userId: user.id, email: user.email, token };
}

export async function createTestHost(
  db: PrismaClient,
  overrides: Partial<Prisma.HostUncheckedCreateInput> = {},
): Promise<{ id: string; name: string }> {
  return db.host.create({
    data: {
      name: `host-${unique()}`,
      status: "online",
      cpuCapacityMillis: 4000,
      memoryCapacityBytes: 8n * 1024n ** 3n,
      pidsCapacity: 32_768,
      cpuAllocatableMillis: 3900,
      memoryAllocatableBytes: 8n * 1024n ** 3n - 256n * 1024n ** 2n,
      pidsAllocatable: 32_768,
      ...overrides,
    },
    select: { id: true, name: true },
  });
}
