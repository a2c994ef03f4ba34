// The one place placement applies the administrator's bind mount allowlist:
// every path that turns a template into new containers (run, plan, deployment
// create and scale) calls it before scheduling.
import type { Prisma, PrismaClient } from "../../db/client";
import { readBindMountPrefixes } from "../../db/setting-rows";
import { assertBindMountsAllowed } from "../settings/bind-mount-prefixes";
import type { TContainerTemplate } from "./container-template";

/** FORBIDDEN naming the first bind mount outside every allowed host path prefix. */
export async function assertTemplateBindMounts(
  db: PrismaClient | Prisma.TransactionClient,
  template: Pick<TContainerTemplate, "mounts">,
): Promise<void> {
  if (!template.mounts.some((mount) => mount.type === "bind")) return;
  assertBindMountsAllowed(template.mounts, await readBindMountPrefixes({ db }));
}
