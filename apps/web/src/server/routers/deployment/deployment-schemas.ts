import { ZHealthCheck, ZMount, ZPortMapping } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { ROLLOUT_STATES } from "../../services/deployment/rollout-decision";
import { ZUpdatePolicy } from "../../services/deployment/update-policy";
import { ZContainer, ZContainerResources } from "../container/container-schemas";

export const ZRolloutState = z.enum(ROLLOUT_STATES);

export const ZDeploymentRolloutState = z.object({
  id: z.string(),
  state: ZRolloutState,
  fromRevision: z.int().nullable(),
  toRevision: z.int(),
  reason: z.string().nullable(),
  createdAt: z.date(),
  finishedAt: z.date().nullable(),
});

export const ZDeployment = z.object({
  id: z.string(),
  name: z.string(),
  /** What the replicas run: `repository:tag@digest` once pinned. */
  image: z.string(),
  /** The registry digest the deployment is pinned to; null when the image has none (built locally). */
  imageDigest: z.string().nullable(),
  command: z.array(z.string()).nullable(),
  /** Names of the environment variables; values are not shown. */
  envKeys: z.array(z.string()),
  ports: z.array(ZPortMapping),
  mounts: z.array(ZMount),
  networks: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  resources: ZContainerResources,
  restartPolicy: z.string(),
  healthCheck: ZHealthCheck.nullable(),
  /** The newest revision; replicas catch up with it through rollouts. */
  revision: z.int().positive(),
  updatePolicy: ZUpdatePolicy,
  /** Live replicas made from the newest revision. */
  updatedReplicas: z.int().nonnegative(),
  /** Live replicas healthy (or running, without a health check). */
  healthyReplicas: z.int().nonnegative(),
  /** The newest rollout; null when nothing changed since creation. */
  rollout: ZDeploymentRolloutState.nullable(),
  replicas: z.int().nonnegative(),
  currentReplicas: z.int().nonnegative(),
  runningReplicas: z.int().nonnegative(),
  pendingPlacement: z.int().nonnegative(),
  strategy: z.enum(["binpack", "spread"]),
  constraints: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  removedAt: z.date().nullable(),
});

export const ZDeploymentDetail = z.object({
  deployment: ZDeployment,
  replicas: z.array(ZContainer),
  /** Live replicas in all; more than `replicas` holds when the call asked for fewer. */
  replicasTotal: z.int().nonnegative(),
});

/** What deployment.update and deployment.rollback changed. */
export const ZDeploymentChange = z.object({
  /** The revision made; null when the spec did not change or for a dry run. */
  revision: z.int().positive().nullable(),
  /** One line against the previous revision, e.g. `image app:1 → app:2; env +MODE`. */
  diff: z.string(),
  dryRun: z.boolean(),
});

export const ZDeploymentChangeResult = ZDeploymentDetail.extend({ change: ZDeploymentChange });

export const ZRevision = z.object({
  number: z.int().positive(),
  image: z.string(),
  imageDigest: z.string().nullable(),
  diff: z.string(),
  createdBy: z.string(),
  createdAt: z.date(),
  current: z.boolean(),
  /** How the newest rollout towards this revision ended or stands; null without one (creation). */
  rolloutState: ZRolloutState.nullable(),
});

export const ZRolloutProgress = z.object({
  desired: z.int().nonnegative(),
  updated: z.int().nonnegative(),
  updatedServing: z.int().nonnegative(),
  serving: z.int().nonnegative(),
  stepsDone: z.int().nonnegative(),
  stepsInFlight: z.int().nonnegative(),
  stepsFailed: z.int().nonnegative(),
});

export const ZRolloutSummary = z.object({
  id: z.string(),
  state: ZRolloutState,
  fromRevision: z.int().nullable(),
  toRevision: z.int(),
  reason: z.string().nullable(),
  policy: ZUpdatePolicy,
  promoted: z.boolean(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  progressAt: z.date(),
  finishedAt: z.date().nullable(),
  progress: ZRolloutProgress,
  waitingFor: z.string().nullable(),
});

export const ZRolloutStep = z.object({
  id: z.string(),
  replicaIndex: z.int(),
  oldContainerId: z.string().nullable(),
  oldContainerName: z.string().nullable(),
  newContainerId: z.string().nullable(),
  newContainerName: z.string().nullable(),
  order: z.enum(["stop-first", "start-first"]),
  canary: z.boolean(),
  state: z.enum(["started", "done", "failed"]),
  reason: z.string().nullable(),
  startedAt: z.date(),
  oldRemovedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});

export const ZRolloutDetail = z.object({ rollout: ZRolloutSummary, steps: z.array(ZRolloutStep) });
