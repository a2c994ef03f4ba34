// A deployment's revisions, newest first, each with its one-line diff and how
// its last rollout ended.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { TRolloutState } from "./rollout-decision";
import { rolloutStateOf } from "./rollout-rows";

export const MAX_REVISIONS_LISTED = 200;

export interface TRevisionView {
  number: number;
  image: string;
  imageDigest: string | null;
  diff: string;
  createdBy: string;
  createdAt: Date;
  /** The deployment's current (newest) revision. */
  current: boolean;
  /** How the newest rollout towards it ended or stands; null for one made without a rollout (creation). */
  rolloutState: TRolloutState | null;
}

export async function deploymentHistory(options: {
  db: PrismaClient;
  deploymentId: string;
}): Promise<{ revision: number; items: TRevisionView[] }> {
  const { db, deploymentId } = options;
  const deployment = await db.deployment.findUnique({
    where: { id: deploymentId },
    select: { revision: true },
  });
  if (!deployment) throw new AppError("NOT_FOUND", `no deployment with id ${deploymentId}`);
  const [revisions, rollouts] = await Promise.all([
    db.deploymentRevision.findMany({
      where: { deploymentId },
      orderBy: { number: "desc" },
      take: MAX_REVISIONS_LISTED,
      select: { number: true, spec: true, imageDigest: true, diff: true, createdBy: true, createdAt: true },
    }),
    db.rollout.findMany({
      where: { deploymentId },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      select: { toRevision: true, state: true },
    }),
  ]);
  const lastState = new Map(rollouts.map((rollout) => [rollout.toRevision, rolloutStateOf(rollout.state)]));
  return {
    revision: deployment.revision,
    items: revisions.map((row) => {
      const spec = row.spec as { image?: unknown };
      return {
        number: row.number,
        image: typeof spec.image === "string" ? spec.image : "",
        imageDigest: row.imageDigest,
        diff: row.diff,
        createdBy: row.createdBy,
        createdAt: row.createdAt,
        current: row.number === deployment.revision,
        rolloutState: lastState.get(row.number) ?? null,
      };
    }),
  };
}
