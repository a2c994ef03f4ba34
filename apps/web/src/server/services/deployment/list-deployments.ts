import type { PrismaClient } from "../../db/client";
import { deploymentViewSelect, type TDeploymentView, toDeploymentView } from "./deployment-view";

export const MAX_DEPLOYMENTS_LISTED = 1000;

/** Deployments by name; removed ones only when asked for. */
export async function listDeployments(options: {
  db: PrismaClient;
  includeRemoved: boolean;
}): Promise<{ items: TDeploymentView[] }> {
  const rows = await options.db.deployment.findMany({
    where: options.includeRemoved ? {} : { removedAt: null },
    orderBy: [{ name: "asc" }, { createdAt: "desc" }],
    take: MAX_DEPLOYMENTS_LISTED,
    select: deploymentViewSelect,
  });
  return { items: rows.map(toDeploymentView) };
}
