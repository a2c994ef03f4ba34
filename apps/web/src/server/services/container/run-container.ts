// `docker run` for the fleet: one container, placed by the scheduler.
import type { PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { TContainerTemplate } from "../placement/container-template";
import {
  placeContainers,
  type RunPlacementOptions,
  type TPlacementDecision,
} from "../placement/place-containers";
import { containerViewSelect, type TContainerView, toContainerView } from "./container-view";

export async function runContainer(
  options: RunPlacementOptions & {
    name?: string | undefined;
    template: TContainerTemplate;
    strategy: PlacementStrategy;
    constraints: string;
  },
): Promise<{ container: TContainerView; placement: TPlacementDecision }> {
  const [placed] = await placeContainers({
    ...options,
    drafts: [{ name: options.name, template: options.template }],
  });
  if (!placed) throw new Error("placement returned no container");
  const row = await options.db.container.findUniqueOrThrow({
    where: { id: placed.containerId },
    select: containerViewSelect,
  });
  const { containerId: _containerId, name: _name, ...placement } = placed;
  return { container: toContainerView(row), placement };
}
