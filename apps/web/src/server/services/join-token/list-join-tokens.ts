// Join tokens without their secrets: who made them, until when, and which host used them.
import { type TLabels, ZLabels } from "@fleet/shared/label-selector";
import type { PrismaClient } from "../../db/client";

export type TJoinTokenState = "active" | "used" | "expired";

export interface TJoinTokenView {
  id: string;
  state: TJoinTokenState;
  labels: TLabels;
  createdAt: Date;
  expiresAt: Date;
  createdByEmail: string;
  usedAt: Date | null;
  usedByHostId: string | null;
  usedByHostName: string | null;
}

export async function listJoinTokens(options: {
  db: PrismaClient;
  now: Date;
  /** Leave out used and expired tokens. */
  activeOnly?: boolean;
}): Promise<TJoinTokenView[]> {
  const { db, now } = options;
  const rows = await db.joinToken.findMany({
    where: options.activeOnly ? { usedAt: null, expiresAt: { gt: now } } : {},
    select: {
      id: true,
      labels: true,
      createdAt: true,
      expiresAt: true,
      usedAt: true,
      usedByHostId: true,
      createdBy: { select: { email: true } },
      usedByHost: { select: { name: true } },
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
  return rows.map((row) => {
    const labels = ZLabels.safeParse(row.labels);
    return {
      id: row.id,
      state: row.usedAt ? "used" : row.expiresAt.getTime() <= now.getTime() ? "expired" : "active",
      labels: labels.success ? labels.data : {},
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      createdByEmail: row.createdBy.email,
      usedAt: row.usedAt,
      usedByHostId: row.usedByHostId,
      usedByHostName: row.usedByHost?.name ?? null,
    };
  });
}
