// Where a container would go and why, without deciding anything: the same
// scheduler over the same rows, read without locks, nothing written. Two
// previews a moment apart can differ from each other and from the real run.
import { schedule } from "@fleet/shared/scheduler/schedule";
import type { HostRejection, PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { PrismaClient } from "../../db/client";
import { assertTemplateBindMounts } from "./bind-mount-check";
import type { TContainerTemplate } from "./container-template";
import { parseConstraints, placementRequestOf } from "./place-containers";
import { readPlacementCluster } from "./placement-lock";

export type TPlacementPlan =
  | { fits: true; hostId: string; hostName: string; reason: string; rejected: HostRejection[] }
  | { fits: false; message: string; rejected: HostRejection[] };

export async function planPlacement(options: {
  db: PrismaClient;
  template: TContainerTemplate;
  strategy: PlacementStrategy;
  constraints: string;
}): Promise<TPlacementPlan> {
  await assertTemplateBindMounts(options.db, options.template);
  const cluster = await readPlacementCluster(options.db);
  const result = schedule(
    cluster.view,
    placementRequestOf(options.template, {
      strategy: options.strategy,
      constraints: parseConstraints(options.constraints),
    }),
  );
  return result.ok
    ? {
        fits: true,
        hostId: result.hostId,
        hostName: result.hostName,
        reason: result.reason,
        rejected: result.rejected,
      }
    : { fits: false, message: result.message, rejected: result.rejected };
}
