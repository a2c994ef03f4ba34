// The one line a revision shows against the one before it, in the words
// `fleet run` uses for the same fields. Environment values are never shown:
// they are often secrets, and the line is read by every viewer.
import { formatMount, formatPortMapping, formatRestartPolicy } from "@fleet/shared/domain/container-spec";
import { familiarImageRef, parseImageRef } from "@fleet/shared/image-ref";
import { formatBytes, formatCpus } from "@fleet/shared/units";
import type { TContainerTemplate } from "../placement/container-template";
import type { TPlacementParts } from "./revision-spec";

function keyChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((key) => {
    if (!(key in before)) return [`+${key}`];
    if (!(key in after)) return [`-${key}`];
    return before[key] === after[key] ? [] : [`~${key}`];
  });
}

function setChanges(before: readonly string[], after: readonly string[]): string[] {
  return [
    ...after.filter((item) => !before.includes(item)).map((item) => `+${item}`),
    ...before.filter((item) => !after.includes(item)).map((item) => `-${item}`),
  ];
}

const orNone = (text: string) => (text === "" ? "none" : text);
const cpus = (millis: number | null) => (millis === null ? "unlimited" : formatCpus(millis));
const bytes = (value: number | null) => (value === null ? "unlimited" : formatBytes(value));
const count = (value: number | null) => (value === null ? "unlimited" : String(value));

function healthCheckText(check: TContainerTemplate["healthCheck"]): string {
  if (!check) return "none";
  const { test } = check;
  if (test.type === "exec") return `exec ${test.command.join(" ")}`;
  if (test.type === "http") return `http :${test.port}${test.path}`;
  return `tcp :${test.port}`;
}

/** The pinned reference without its digest, as people wrote it; the digest only when the tag moved. */
function imageChange(from: string, to: string): string | null {
  if (from === to) return null;
  const a = parseImageRef(from);
  const b = parseImageRef(to);
  const tagOf = (ref: typeof a) => familiarImageRef({ ...ref, digest: null });
  const short = (digest: string | null) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "none");
  if (tagOf(a) !== tagOf(b)) return `image ${tagOf(a)} → ${tagOf(b)}`;
  return `image ${tagOf(b)} digest ${short(a.digest)} → ${short(b.digest)}`;
}

/** e.g. `image busybox:1.36 → busybox:1.37; env +MODE`; empty when nothing differs. */
export function revisionDiff(
  before: TContainerTemplate & Partial<TPlacementParts>,
  after: TContainerTemplate & Partial<TPlacementParts>,
): string {
  const parts: string[] = [];
  const changed = (name: string, from: string, to: string) => {
    if (from !== to) parts.push(`${name} ${from} → ${to}`);
  };
  const image = imageChange(before.image, after.image);
  if (image) parts.push(image);
  changed("command", orNone((before.command ?? []).join(" ")), orNone((after.command ?? []).join(" ")));
  const env = keyChanges(before.env, after.env);
  if (env.length > 0) parts.push(`env ${env.join(" ")}`);
  const ports = setChanges(before.ports.map(formatPortMapping), after.ports.map(formatPortMapping));
  if (ports.length > 0) parts.push(`ports ${ports.join(" ")}`);
  const mounts = setChanges(before.mounts.map(formatMount), after.mounts.map(formatMount));
  if (mounts.length > 0) parts.push(`mounts ${mounts.join(" ")}`);
  const networks = setChanges(before.networks, after.networks);
  if (networks.length > 0) parts.push(`networks ${networks.join(" ")}`);
  const labels = keyChanges(before.labels, after.labels);
  if (labels.length > 0) parts.push(`labels ${labels.join(" ")}`);
  const r0 = before.resources;
  const r1 = after.resources;
  changed("cpus", cpus(r0.cpuLimitMillis), cpus(r1.cpuLimitMillis));
  changed("cpu request", cpus(r0.cpuRequestMillis), cpus(r1.cpuRequestMillis));
  changed("memory", bytes(r0.memoryLimitBytes), bytes(r1.memoryLimitBytes));
  changed("memory request", bytes(r0.memoryRequestBytes), bytes(r1.memoryRequestBytes));
  changed("pids", count(r0.pidsLimit), count(r1.pidsLimit));
  changed("pids request", count(r0.pidsRequest), count(r1.pidsRequest));
  changed("restart", formatRestartPolicy(before.restartPolicy), formatRestartPolicy(after.restartPolicy));
  const health0 = healthCheckText(before.healthCheck);
  const health1 = healthCheckText(after.healthCheck);
  if (health0 !== health1) changed("health check", health0, health1);
  else if (JSON.stringify(before.healthCheck ?? null) !== JSON.stringify(after.healthCheck ?? null)) {
    parts.push("health check timing");
  }
  if (before.constraints !== undefined && after.constraints !== undefined) {
    changed("constraints", orNone(before.constraints), orNone(after.constraints));
  }
  if (before.strategy !== undefined && after.strategy !== undefined) {
    changed("strategy", before.strategy, after.strategy);
  }
  return parts.join("; ");
}
