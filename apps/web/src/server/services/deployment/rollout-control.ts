// A person steering the active rollout: pause (nothing new is replaced,
// deadlines stop counting), resume, and promote (canaries counted: the rest
// may be replaced). Each is one transaction on the deployment's row lock, so
// it cannot interleave with a step of the rollout loop.
import type { PrismaClient } from "../../db/client";
import { AppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { ACTIVE_ROLLOUT_STATES } from "./rollout-decision";
import { getRollout, type TRolloutDetail } from "./rollout-view";

export type TRolloutCommand = "pause" | "resume" | "promote";

/** Auto-revert is the only author of reverting rollouts; resuming one puts it back in that state. */
export const AUTO_REVERT_ACTOR = "auto-revert";

export async function controlRollout(options: {
  db: PrismaClient;
  bus: Pick<EventBus, "publish">;
  deploymentId: string;
  command: TRolloutCommand;
  actorEmail: string;
  now: Date;
}): Promise<TRolloutDetail> {
  const { db, bus, deploymentId, command, actorEmail, now } = options;
  const changed = await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM deployments WHERE id = ${deploymentId} FOR UPDATE`;
    const deployment = await tx.deployment.findUnique({
      where: { id: deploymentId },
      select: { name: true },
    });
    if (!deployment) throw new AppError("NOT_FOUND", `no deployment with id ${deploymentId}`);
    const rollout = await tx.rollout.findFirst({
      where: { deploymentId, state: { in: [...ACTIVE_ROLLOUT_STATES] } },
      orderBy: { createdAt: "desc" },
      select: { id: true, state: true, promoted: true, createdBy: true, toRevision: true },
    });
    if (!rollout) {
      throw new AppError("PRECONDITION_FAILED", `deployment ${deployment.name} has no rollout in progress`);
    }
    const refuse = (why: string) => {
      throw new AppError(
        "PRECONDITION_FAILED",
        `cannot ${command} the rollout of ${deployment.name}: ${why}`,
      );
    };
    let data: { state?: string; promoted?: boolean; progressAt?: Date };
    if (command === "pause") {
      if (rollout.state === "paused") return rollout.id;
      if (rollout.state === "awaiting-promotion") refuse("it is waiting for promotion");
      data = { state: "paused" };
    } else if (command === "resume") {
      if (rollout.state !== "paused") return rollout.id;
      data = { state: rollout.createdBy === AUTO_REVERT_ACTOR ? "reverting" : "running", progressAt: now };
    } else {
      if (rollout.promoted) return rollout.id;
      if (rollout.state === "paused") refuse("it is paused; resume it first");
      data = { state: "running", promoted: true, progressAt: now };
    }
    await tx.rollout.update({ where: { id: rollout.id }, data, select: { id: true } });
    // Steps in flight get their healthy deadline afresh: the pause was not theirs to spend.
    if (command === "resume") {
      await tx.rolloutStep.updateMany({
        where: { rolloutId: rollout.id, state: "started" },
        data: { startedAt: now },
      });
    }
    const past = { pause: "paused", resume: "resumed", promote: "promoted" }[command];
    const event = await recordEvent({
      db: tx,
      kind: `deployment.rollout-${past}`,
      deploymentId,
      message: `${actorEmail} ${past} the rollout of deployment ${deployment.name} to revision ${rollout.toRevision}`,
      data: { by: actorEmail, rolloutId: rollout.id },
      ts: now,
    });
    return { rolloutId: rollout.id, event };
  });
  const rolloutId = typeof changed === "string" ? changed : changed.rolloutId;
  if (typeof changed !== "string") {
    bus.publish("event", changed.event);
    bus.publish("rollout.started", { deploymentId, rolloutId });
    bus.publish("rollout.changed", { deploymentId, rolloutId });
  }
  const detail = await getRollout({ db, deploymentId, rolloutId, now });
  if (!detail) throw new AppError("NOT_FOUND", `no rollout with id ${rolloutId}`);
  return detail;
}
