// The one word the dashboard shows for a host. Offline wins over draining:
// an unreachable host is the more urgent fact, and a drained host that comes
// back reads "draining" again.
import type { THostView } from "../api-types";

export type THostDisplayStatus = "online" | "offline" | "draining";

export function hostDisplayStatus(host: Pick<THostView, "status" | "draining">): THostDisplayStatus {
  if (host.status === "offline") return "offline";
  return host.draining ? "draining" : "online";
}
