// What a revision row's `spec` holds: the template (image pinned) and where
// its replicas may go, so a rollback restores both.
import type { PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { Prisma } from "../../db/client";
import type { TContainerTemplate } from "../placement/container-template";
import { templateOfDeployment } from "./deployment-view";

export interface TPlacementParts {
  constraints: string;
  strategy: PlacementStrategy;
}

export function revisionSpecOf(
  template: TContainerTemplate,
  placement: TPlacementParts,
): Prisma.InputJsonObject {
  return { ...template, ...placement } as unknown as Prisma.InputJsonObject;
}

/** A revision's spec back; revisions made by the migration hold only the template. */
export function readRevisionSpec(
  spec: unknown,
  fallback: TPlacementParts,
): { template: TContainerTemplate; placement: TPlacementParts } {
  const stored = (spec ?? {}) as { constraints?: unknown; strategy?: unknown };
  return {
    template: templateOfDeployment(spec),
    placement: {
      constraints: typeof stored.constraints === "string" ? stored.constraints : fallback.constraints,
      strategy:
        stored.strategy === "binpack" || stored.strategy === "spread" ? stored.strategy : fallback.strategy,
    },
  };
}
