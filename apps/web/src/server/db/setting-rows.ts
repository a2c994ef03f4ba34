// Fleet-wide settings, each stored as one `Setting` row whose value its zod
// schema checks on the way in and out (a value written by an older version
// that no longer fits reads as the default). Read here, below services and the
// gateway, because both need them: placement checks bind mounts, and every
// desired set carries the allowed prefixes to the agent.
import { ZBindMountPrefixes } from "@fleet/shared/domain/container-spec";
import type { Prisma, PrismaClient } from "./client";

export const BIND_MOUNTS_SETTING_KEY = "bind-mounts";

type TSettingReader = Pick<PrismaClient, "setting"> | Pick<Prisma.TransactionClient, "setting">;

/** The allowed bind mount prefixes; [] (no host paths) until an administrator sets some. */
export async function readBindMountPrefixes(options: { db: TSettingReader }): Promise<string[]> {
  const row = await options.db.setting.findUnique({
    where: { key: BIND_MOUNTS_SETTING_KEY },
    select: { value: true },
  });
  const parsed = ZBindMountPrefixes.safeParse(row?.value);
  return parsed.success ? parsed.data : [];
}
