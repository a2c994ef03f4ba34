// How bad an event is: the one list the central stores, the API filters by and
// the dashboard offers.
export const EVENT_SEVERITIES = ["info", "warning", "error"] as const;
export type TEventSeverity = (typeof EVENT_SEVERITIES)[number];
