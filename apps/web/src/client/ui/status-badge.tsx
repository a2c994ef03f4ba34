// One colour language for every status the dashboard shows.
const TONE: Record<string, "ok" | "warn" | "bad" | "idle"> = {
  online: "ok",
  running: "ok",
  active: "ok",
  pulled: "ok",
  built: "ok",
  info: "idle",
  draining: "warn",
  pending: "warn",
  starting: "warn",
  healthy: "ok",
  unhealthy: "bad",
  created: "idle",
  restarting: "warn",
  warning: "warn",
  used: "idle",
  offline: "bad",
  exited: "idle",
  stopped: "idle",
  failed: "bad",
  dead: "bad",
  error: "bad",
  expired: "idle",
  removed: "idle",
  // Rollouts and their steps.
  succeeded: "ok",
  done: "ok",
  started: "warn",
  paused: "warn",
  "awaiting-promotion": "warn",
  reverting: "warn",
  reverted: "warn",
  cancelled: "idle",
};

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge badge-${TONE[status] ?? "idle"}`} data-testid={testId}>
      {status}
    </span>
  );
}
