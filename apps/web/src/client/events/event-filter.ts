// The events page's filter lives in the query string
// (`?kind=container.&severity=warning,error&host=…&container=…&deployment=…`)
// so a filtered view can be linked to from a host, a container, a deployment or a bookmark.

import { EVENT_SEVERITIES, type TEventSeverity } from "@fleet/shared/domain/event";
import type { RouterInputs } from "../api-types";

export interface TEventFilterValue {
  kindPrefix?: string;
  severity?: TEventSeverity[];
  hostId?: string;
  containerId?: string;
  deploymentId?: string;
}

function isSeverity(text: string): text is TEventSeverity {
  return (EVENT_SEVERITIES as readonly string[]).includes(text);
}

export function filterFromSearchParams(params: URLSearchParams): TEventFilterValue {
  const kindPrefix = params.get("kind")?.trim() || undefined;
  const severity = (params.get("severity") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(isSeverity);
  return {
    kindPrefix,
    severity: severity.length > 0 ? [...new Set(severity)] : undefined,
    hostId: params.get("host")?.trim() || undefined,
    containerId: params.get("container")?.trim() || undefined,
    deploymentId: params.get("deployment")?.trim() || undefined,
  };
}

export function filterToSearchParams(filter: TEventFilterValue): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.kindPrefix) params.set("kind", filter.kindPrefix);
  if (filter.severity && filter.severity.length > 0) params.set("severity", filter.severity.join(","));
  if (filter.hostId) params.set("host", filter.hostId);
  if (filter.containerId) params.set("container", filter.containerId);
  if (filter.deploymentId) params.set("deployment", filter.deploymentId);
  return params;
}

/** The part of `event.list` / `event.stream` input the filter decides. */
export function filterToInput(
  filter: TEventFilterValue,
): Omit<NonNullable<RouterInputs["event"]["list"]>, "cursor" | "limit"> {
  return {
    ...(filter.kindPrefix ? { kindPrefix: filter.kindPrefix } : {}),
    ...(filter.severity && filter.severity.length > 0 ? { severity: filter.severity } : {}),
    ...(filter.hostId ? { hostId: filter.hostId } : {}),
    ...(filter.containerId ? { containerId: filter.containerId } : {}),
    ...(filter.deploymentId ? { deploymentId: filter.deploymentId } : {}),
  };
}

export function hasAnyFilter(filter: TEventFilterValue): boolean {
  return Boolean(
    filter.kindPrefix ||
      filter.severity?.length ||
      filter.hostId ||
      filter.containerId ||
      filter.deploymentId,
  );
}
