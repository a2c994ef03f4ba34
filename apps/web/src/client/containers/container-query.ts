// The containers list's filters live in the query string, so a filtered view
// can be linked to (the run form sends people to `?deployment=ID`) and the
// browser's back button undoes a filter change.
import { type TContainerHealth, ZContainerHealth } from "@fleet/shared/domain/container-spec";
import { type TContainerState, ZContainerState } from "@fleet/shared/domain/container-state";

/** The states a listed container can be in (removed ones are not listed). */
export const LISTED_STATES: readonly TContainerState[] = ZContainerState.options.filter(
  (state) => state !== "removed",
);

export interface TContainerFilter {
  hostId: string | null;
  deploymentId: string | null;
  states: TContainerState[];
  /** One health verdict; null: any (containers without a check included). */
  health: TContainerHealth | null;
  image: string;
  name: string;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

function idParam(value: string | null): string | null {
  return value && ID.test(value) ? value : null;
}

/** `?state=running` or `?state=running,exited` or the key repeated; unknown states are ignored. */
export function parseContainerFilter(params: Pick<URLSearchParams, "get" | "getAll">): TContainerFilter {
  const states = new Set<TContainerState>();
  for (const value of params.getAll("state")) {
    for (const part of value.split(",")) {
      const state = part.trim() as TContainerState;
      if (LISTED_STATES.includes(state)) states.add(state);
    }
  }
  return {
    hostId: idParam(params.get("host")),
    deploymentId: idParam(params.get("deployment")),
    states: LISTED_STATES.filter((state) => states.has(state)),
    health: ZContainerHealth.safeParse(params.get("health")).data ?? null,
    image: (params.get("image") ?? "").slice(0, 512),
    name: (params.get("name") ?? "").slice(0, 128),
  };
}

export function containerFilterQuery(filter: TContainerFilter): string {
  const params = new URLSearchParams();
  if (filter.hostId) params.set("host", filter.hostId);
  if (filter.deploymentId) params.set("deployment", filter.deploymentId);
  if (filter.states.length > 0) params.set("state", filter.states.join(","));
  if (filter.health) params.set("health", filter.health);
  if (filter.image.trim()) params.set("image", filter.image.trim());
  if (filter.name.trim()) params.set("name", filter.name.trim());
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function isFiltered(filter: TContainerFilter): boolean {
  return containerFilterQuery(filter) !== "";
}

/** The container.list input for a filter (without cursor and limit). */
export function listInputOf(filter: TContainerFilter) {
  const image = filter.image.trim();
  const name = filter.name.trim();
  return {
    ...(filter.hostId ? { hostId: filter.hostId } : {}),
    ...(filter.deploymentId ? { deploymentId: filter.deploymentId } : {}),
    ...(filter.states.length > 0 ? { state: filter.states } : {}),
    ...(filter.health ? { health: filter.health } : {}),
    ...(image ? { image } : {}),
    ...(name ? { name } : {}),
  };
}
