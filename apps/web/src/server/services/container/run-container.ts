// `docker run` for the fleet: one container, placed by the scheduler.
import type { PlacementStrategy } from "@fleet/shared/scheduler/types";
import type { TContainerTemplate } from "../placement/container-template";
import type { RunPlacementOptions, TPlacementDecision } from "../placement/place-containers";
import { placeContainers } from "../placement/placement-batch";
import { type TContainerView, toContainerView } from "./container-view";

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
  const { containerId: _containerId, name: _name, row, ...placement } = placed;
  // The row as inserted, not read back: a pending container shows no
  // published ports, so its host's address and facts are not needed.
  const container = toContainerView({
    ...row,
    host: { name: placed.hostName, address: null, facts: {} },
    deployment: null,
  });
  return { container, placement };
}
