// How values read in tables for people: short ids, docker's relative times,
// binary sizes, cores. Scripts get the API's own values through --json.
import { formatBytesHuman, formatCpus } from "@fleet/shared/units";

/**
 * The 12 characters shown for an id. Fleet's ids are UUIDv7, whose first
 * 12 hex digits are the creation millisecond (replicas created together
 * share them), so the short id is the last 12: the random part. Any unique
 * prefix of the full id or suffix (like this one) names it on the command line.
 */
export function shortId(id: string): string {
  const hex = id.replaceAll("-", "");
  return hex.length > 12 ? hex.slice(-12) : id;
}

/** `sha256:0123abcd…` → `0123abcd4567`, as `docker images` shows image ids. */
export function shortImageId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** `sha256:` and the digest's first 12 hex digits, enough to tell two builds of a tag apart. */
export function shortDigest(digest: string): string {
  const match = /^([a-z0-9]+):([0-9a-f]+)$/.exec(digest);
  return match ? `${match[1]}:${match[2]!.slice(0, 12)}` : digest;
}

/** Docker's HumanDuration: `Less than a second`, `5 seconds`, `About a minute`, `3 hours`, `2 weeks`. */
export function humanDuration(ms: number): string {
  const seconds = Math.round(Math.max(0, ms) / 1000);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.round(seconds / 60);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** `5 minutes ago`; `-` without a time. */
export function ago(date: Date | null | undefined, now: number): string {
  if (!date) return "-";
  return `${humanDuration(now - date.getTime())} ago`;
}

/** `64 MiB`; `-` for nothing known. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return "-";
  return formatBytesHuman(n);
}

/** Millicores as cores: `0.5`. */
export function cores(millis: number): string {
  return formatCpus(Math.max(0, Math.round(millis)));
}

/** Cores with two decimals at most (`0.13`), for measured use. */
export function coresUsed(value: number): string {
  return String(Math.round(Math.max(0, value) * 100) / 100);
}

/** `45%`; `-` when the whole is zero or unknown. */
export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "-";
  return `${Math.round(ratio * 100)}%`;
}

/** `k=v,k2=v2`, keys in order; `-` for none. */
export function labelList(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return "-";
  return keys.map((key) => (labels[key] === "" ? key : `${key}=${labels[key]}`)).join(",");
}

export interface TPortView {
  containerPort: number;
  hostPort?: number | undefined;
  hostIp?: string | undefined;
  protocol: string;
}

/** Docker's PORTS column: `0.0.0.0:8080->80/tcp, 53/udp`. */
export function portList(ports: readonly TPortView[]): string {
  return ports
    .map((port) =>
      port.hostPort === undefined
        ? `${port.containerPort}/${port.protocol}`
        : `${port.hostIp ?? "0.0.0.0"}:${port.hostPort}->${port.containerPort}/${port.protocol}`,
    )
    .join(", ");
}

/** Docker's COMMAND column: the argv quoted and cut; empty for the image's own command. */
export function commandText(command: readonly string[] | null, max = 22): string {
  if (!command || command.length === 0) return "";
  const text = command.join(" ");
  const shown = text.length > max - 2 ? `${text.slice(0, max - 3)}…` : text;
  return `"${shown}"`;
}

export interface TContainerStatusView {
  actualState: string;
  desiredState: string;
  hostId: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  restartCount: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  statusMessage: string | null;
  /** The health check's verdict; null (or absent, from an older central) without one. */
  health?: "starting" | "healthy" | "unhealthy" | null;
}

/** Docker's words after `Up …`: `(healthy)`, `(health: starting)`, `(unhealthy)`. */
const HEALTH_SUFFIX = {
  starting: " (health: starting)",
  healthy: " (healthy)",
  unhealthy: " (unhealthy)",
} as const;

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Docker's STATUS column: `Up 5 minutes`, `Up 5 minutes (healthy)`, `Exited (137) 2 hours ago (OOM
 * killed)`, `Pending (no host)`.
 */
export function containerStatus(container: TContainerStatusView, now: number): string {
  const since = (date: Date | null) => (date ? ` ${humanDuration(now - date.getTime())}` : "");
  const finished = container.finishedAt ? ` ${ago(container.finishedAt, now)}` : "";
  const oom = container.oomKilled ? " (OOM killed)" : "";
  switch (container.actualState) {
    case "running": {
      const stopping = container.desiredState !== "running" ? " (stopping)" : "";
      const health = container.health ? HEALTH_SUFFIX[container.health] : "";
      return `Up${since(container.startedAt)}${health}${stopping}`;
    }
    case "exited":
      return `Exited (${container.exitCode ?? "?"})${finished}${oom}`;
    case "stopped":
      return `Stopped${finished}`;
    case "restarting":
      return `Restarting (${container.restartCount})${oom}`;
    case "crashloop":
      return `Crash loop (${container.restartCount} restarts)${oom}`;
    case "pending":
      return container.hostId ? "Pending" : "Pending (no host)";
    case "failed":
      return "Failed";
    default:
      return capitalized(container.actualState);
  }
}
