import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import { containerViewSelect, type TContainerView, toContainerView } from "../container/container-view";
import { deploymentViewSelect, type TDeploymentView, toDeploymentView } from "./deployment-view";

export interface TDeploymentDetail {
  deployment: TDeploymentView;
  /** Live replicas by index, each with where it runs and why it went there (the first `replicasLimit`). */
  replicas: TContainerView[];
  /** Live replicas in all, however many `replicas` holds. */
  replicasTotal: number;
}

/** By id, or by the name of a deployment not removed. */
export async function getDeployment(options: {
  db: PrismaClient;
  id?: string;
  name?: string;
  /** At most this many replicas in the answer (a page showing a big deployment); all by default. */
  replicasLimit?: number | undefined;
}): Promise<TDeploymentDetail> {
  const { db, id, name, replicasLimit } = options;
  const row = id
    ? await db.deployment.findUnique({ where: { id }, select: deploymentViewSelect })
    : await db.deployment.findFirst({
        where: { name: name ?? "", removedAt: null },
        select: deploymentViewSelect,
      });
  if (!row)
    throw new AppError("NOT_FOUND", id ? `no deployment with id ${id}` : `no deployment named ${name}`);
  const where = { deploymentId: row.id, removedAt: null };
  const replicas = await db.container.findMany({
    where,
    orderBy: [{ replicaIndex: "asc" }, { createdAt: "asc" }],
    select: containerViewSelect,
    ...(replicasLimit === undefined ? {} : { take: replicasLimit }),
  });
  const replicasTotal =
    replicasLimit === undefined || replicas.length < replicasLimit
      ? replicas.length
      : await db.container.count({ where });
  return { deployment: toDeploymentView(row), replicas: replicas.map(toContainerView), replicasTotal };
}
