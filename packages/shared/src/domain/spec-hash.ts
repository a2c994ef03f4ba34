// The fingerprint of a container spec. The agent stores it as a label on the
// container it creates; when the desired spec's hash differs from the label,
// the container must be replaced. Only this file in domain/ uses node:crypto,
// so the rest stays importable from the browser.
import { createHash } from "node:crypto";
import { type TContainerSpecInput, ZContainerSpec } from "./container-spec";

/** The label the agent puts the hash under. */
export const SPEC_HASH_LABEL = "fleet.spec-hash";

/** JSON with object keys sorted at every level, so equal values always print the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}

/**
 * sha256 hex of the spec's canonical JSON. The spec is parsed first so that
 * defaults (a port's `tcp`) and stray keys cannot make equal specs hash apart;
 * an invalid spec throws a ZodError.
 */
export function hashContainerSpec(spec: TContainerSpecInput): string {
  // Empty mounts and networks and no health check hash as absent, so
  // containers created before those fields existed keep their hash and are
  // not replaced on upgrade.
  const { mounts, networks, healthCheck, ...rest } = ZContainerSpec.parse(spec);
  const hashed = {
    ...rest,
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(networks.length > 0 ? { networks } : {}),
    ...(healthCheck ? { healthCheck } : {}),
  };
  return createHash("sha256").update(canonicalJson(hashed)).digest("hex");
}
