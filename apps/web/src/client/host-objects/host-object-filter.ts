// The Volumes and Networks pages keep their filters (host, name) in the query
// string, so a filtered view can be linked to (a container's networks link to
// `/networks?host=…&name=…`) and the back button undoes a change.

export interface THostObjectFilter {
  hostId: string | null;
  name: string;
}

export const EMPTY_HOST_OBJECT_FILTER: THostObjectFilter = { hostId: null, name: "" };

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_NAME = 64;

export function parseHostObjectFilter(params: Pick<URLSearchParams, "get">): THostObjectFilter {
  const host = params.get("host");
  return {
    hostId: host && ID.test(host) ? host : null,
    name: (params.get("name") ?? "").slice(0, MAX_NAME),
  };
}

export function hostObjectFilterQuery(filter: THostObjectFilter): string {
  const params = new URLSearchParams();
  if (filter.hostId) params.set("host", filter.hostId);
  if (filter.name.trim()) params.set("name", filter.name.trim());
  const query = params.toString();
  return query ? `?${query}` : "";
}

/** The volume.list / network.list input for a filter (without cursor and limit). */
export function hostObjectListInput(filter: THostObjectFilter): { hostId?: string; name?: string } {
  const name = filter.name.trim();
  return { ...(filter.hostId ? { hostId: filter.hostId } : {}), ...(name ? { name } : {}) };
}
