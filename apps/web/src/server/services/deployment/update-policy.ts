// How a deployment moves its replicas to a new revision, with Nomad's `update`
// block and Swarm's `update_config` as the models. Stored as JSON on the
// deployment; a field an older row lacks (or that no longer parses) reads as
// its default, so the policy can gain knobs without a migration.
import { z } from "zod";

export const ZRolloutOrder = z.enum(["stop-first", "start-first"]);
export type TRolloutOrder = z.infer<typeof ZRolloutOrder>;

const MAX_DEADLINE_MS = 24 * 60 * 60_000;

/** Each knob with its bounds; what callers may set (every field optional). */
export const updatePolicyFields = {
  /** Replicas replaced at the same time. */
  maxParallel: z.int().min(1).max(100),
  /** How long a new replica must stay healthy (or running, without a health check) to count. */
  minHealthyTimeMs: z.int().min(0).max(MAX_DEADLINE_MS),
  /** A new replica that has not counted by then fails the rollout. */
  healthyDeadlineMs: z.int().min(1_000).max(MAX_DEADLINE_MS),
  /** A rollout where no replica counted for this long fails. */
  progressDeadlineMs: z.int().min(1_000).max(MAX_DEADLINE_MS),
  /** On failure, roll back to the last revision whose rollout succeeded. */
  autoRevert: z.boolean(),
  /** New replicas placed beside the old ones first; the rest waits for deployment.promote. */
  canary: z.int().min(0).max(500),
  /** stop-first: an old replica goes before its new one is placed; start-first: after the new one counts. */
  order: ZRolloutOrder,
};

export const ZUpdatePolicy = z.object(updatePolicyFields);
export type TUpdatePolicy = z.infer<typeof ZUpdatePolicy>;
export const ZUpdatePolicyInput = ZUpdatePolicy.partial();
export type TUpdatePolicyInput = z.infer<typeof ZUpdatePolicyInput>;

export const DEFAULT_UPDATE_POLICY: TUpdatePolicy = {
  maxParallel: 1,
  minHealthyTimeMs: 10_000,
  healthyDeadlineMs: 5 * 60_000,
  progressDeadlineMs: 10 * 60_000,
  autoRevert: false,
  canary: 0,
  order: "stop-first",
};

const ZStoredUpdatePolicy = z.object({
  maxParallel: updatePolicyFields.maxParallel.catch(DEFAULT_UPDATE_POLICY.maxParallel),
  minHealthyTimeMs: updatePolicyFields.minHealthyTimeMs.catch(DEFAULT_UPDATE_POLICY.minHealthyTimeMs),
  healthyDeadlineMs: updatePolicyFields.healthyDeadlineMs.catch(DEFAULT_UPDATE_POLICY.healthyDeadlineMs),
  progressDeadlineMs: updatePolicyFields.progressDeadlineMs.catch(DEFAULT_UPDATE_POLICY.progressDeadlineMs),
  autoRevert: updatePolicyFields.autoRevert.catch(DEFAULT_UPDATE_POLICY.autoRevert),
  canary: updatePolicyFields.canary.catch(DEFAULT_UPDATE_POLICY.canary),
  order: ZRolloutOrder.catch(DEFAULT_UPDATE_POLICY.order),
});

/** The stored JSON, leniently: missing or broken fields read as their defaults. */
export function readUpdatePolicy(stored: unknown): TUpdatePolicy {
  const object = stored !== null && typeof stored === "object" && !Array.isArray(stored) ? stored : {};
  return ZStoredUpdatePolicy.parse(object);
}

/** The policy with the given fields changed. */
export function withPolicyChanges(
  policy: TUpdatePolicy,
  changes: TUpdatePolicyInput | undefined,
): TUpdatePolicy {
  const next = { ...policy };
  for (const [key, value] of Object.entries(changes ?? {})) {
    if (value !== undefined) (next as Record<string, unknown>)[key] = value;
  }
  return next;
}
