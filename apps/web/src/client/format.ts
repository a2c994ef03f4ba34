// Numbers as the dashboard shows them. Sizes in binary units (what cgroups
// and docker use), CPU in cores, times relative to now where that reads best.
import { formatBytesHuman, formatCpus } from "@fleet/shared/units";

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  return formatBytesHuman(bytes);
}

export function formatMillicores(millis: number | null | undefined): string {
  if (millis === null || millis === undefined) return "—";
  return formatCpus(millis);
}

/** Cores in use, e.g. `0.23` or `1.5`. */
export function formatCores(cores: number | null | undefined): string {
  if (cores === null || cores === undefined || !Number.isFinite(cores)) return "—";
  if (cores === 0) return "0";
  if (cores < 0.01) return "<0.01";
  return cores < 10 ? cores.toFixed(2) : cores.toFixed(1);
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  const percent = ratio * 100;
  return `${percent < 10 && percent > 0 ? percent.toFixed(1) : Math.round(percent)}%`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });

/** `12 s ago`, `3 min ago`, `in 5 min`. */
export function formatRelative(date: Date | number | null | undefined, now = Date.now()): string {
  if (date === null || date === undefined) return "never";
  const ms = (typeof date === "number" ? date : date.getTime()) - now;
  const abs = Math.abs(ms);
  if (abs < 5_000) return "just now";
  if (abs < 60_000) return relative.format(Math.round(ms / 1000), "second");
  if (abs < 3_600_000) return relative.format(Math.round(ms / 60_000), "minute");
  if (abs < 86_400_000) return relative.format(Math.round(ms / 3_600_000), "hour");
  return relative.format(Math.round(ms / 86_400_000), "day");
}

export function formatDateTime(date: Date | number | null | undefined): string {
  if (date === null || date === undefined) return "—";
  const value = typeof date === "number" ? new Date(date) : date;
  return value.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** `sha256:abcdef…` → `abcdef123456`. */
export function shortDigest(digest: string | null | undefined): string {
  if (!digest) return "—";
  const hex = digest.includes(":") ? digest.slice(digest.lastIndexOf(":") + 1) : digest;
  return hex.slice(0, 12);
}

/** `repo@sha256:abcdef…` or `sha256:abcdef…` → `sha256:abcdef123456`, short enough to read, long enough to tell apart. */
export function formatDigest(digest: string | null | undefined): string {
  if (!digest) return "—";
  const bare = digest.slice(digest.lastIndexOf("@") + 1);
  const colon = bare.indexOf(":");
  return colon === -1 ? bare.slice(0, 12) : `${bare.slice(0, colon)}:${bare.slice(colon + 1, colon + 13)}`;
}
