// Frames an agent sends to the central.
import { z } from "zod";
import { ZContainerHealth, ZProtocol } from "../domain/container-spec";
import { ZContainerState } from "../domain/container-state";
import { ZHostFacts, ZHostReserve } from "../domain/host";
import { ZContainerId, ZEngineContainerId, ZEpochMs, ZHostId } from "../domain/ids";
import { ZContainerSample, ZHostSample } from "../domain/metrics";
import { ZDigest } from "../image-ref";
import { ZErrorFrame, ZMessage, ZWireId } from "./common";
import {
  type TOperationKind,
  ZAgentUpgradeResult,
  ZImageBuildResult,
  ZImageListResult,
  ZImagePullResult,
  ZImagePushResult,
  ZImageRemoveResult,
  ZLogsResult,
  ZNetworkCreateResult,
  ZNetworkListResult,
  ZNetworkRemoveResult,
  ZOperationError,
  ZOpProgressData,
  ZVolumeCreateResult,
  ZVolumeListResult,
  ZVolumeRemoveResult,
} from "./operations";

export const MAX_SAMPLES_PER_BATCH = 5000;
export const MAX_EVENT_DATA_ENTRIES = 32;

const ZSecret = z.string().min(1).max(512);

export const ZAgentAuth = z.discriminatedUnion("kind", [
  /** First contact: a single-use token an administrator created. */
  z.object({ kind: z.literal("join"), joinToken: ZSecret }),
  /** Every later connection: the credential `welcome` handed out on join. */
  z.object({ kind: z.literal("credential"), hostId: ZHostId, credential: ZSecret }),
]);
export type TAgentAuth = z.infer<typeof ZAgentAuth>;

export const ZHelloFrame = z.object({
  type: z.literal("hello"),
  // Any version is accepted here so the central can answer `version_mismatch` rather than `bad_frame`.
  protocolVersion: z.int().min(1),
  auth: ZAgentAuth,
  /** Display name for the host. */
  name: z.string().min(1).max(128),
  facts: ZHostFacts,
  reserve: ZHostReserve,
  agentVersion: z.string().min(1).max(64),
});
export type THelloFrame = z.infer<typeof ZHelloFrame>;

export const ZHeartbeatFrame = z.object({
  type: z.literal("heartbeat"),
  ts: ZEpochMs,
  /** Managed containers the agent sees on the engine. */
  containers: z.int().nonnegative(),
  /** The last generation reconciled, or null before the first one since the agent started. */
  ackedGeneration: z.int().nonnegative().nullable(),
});
export type THeartbeatFrame = z.infer<typeof ZHeartbeatFrame>;

/** The agent finished reconciling to this `desired` generation. */
export const ZAckFrame = z.object({
  type: z.literal("ack"),
  generation: z.int().nonnegative(),
});
export type TAckFrame = z.infer<typeof ZAckFrame>;

const ZIsoTime = z.iso.datetime({ offset: true });

export const MAX_PUBLISHED_PORTS = 256;

export const ZPublishedPort = z.object({
  containerPort: z.int().min(1).max(65535),
  protocol: ZProtocol,
  /** As the engine bound it: `0.0.0.0` or `::` for every address. */
  hostIp: z.string().max(64),
  hostPort: z.int().min(1).max(65535),
});
export type TPublishedPort = z.infer<typeof ZPublishedPort>;

export const ZContainerStatusFrame = z.object({
  type: z.literal("container.status"),
  containerId: ZContainerId,
  /** The engine's id, null until created. */
  engineId: ZEngineContainerId.nullable(),
  state: ZContainerState,
  exitCode: z.int().nullable(),
  oomKilled: z.boolean(),
  restartCount: z.int().nonnegative(),
  startedAt: ZIsoTime.nullable(),
  finishedAt: ZIsoTime.nullable(),
  /** Why, when it is not obvious: a pull error, a create failure, … */
  message: ZMessage.nullable(),
  /**
   * The registry digest of the image the engine container runs (from the
   * image's RepoDigests for the spec's repository); null before it is created
   * or for an image that never came from a registry. Absent from older agents.
   */
  imageDigest: ZDigest.nullable().optional(),
  /**
   * Host ports the engine bound for the container while it runs, including
   * ports the engine picked (a mapping without a host port). Absent from
   * older agents.
   */
  publishedPorts: z.array(ZPublishedPort).max(MAX_PUBLISHED_PORTS).optional(),
  /** The health check's verdict; null without a health check or while not running. */
  health: ZContainerHealth.nullable().default(null),
  /** The last check's output or error when it failed (truncated), for `inspect` and the dashboard. */
  healthMessage: ZMessage.nullable().default(null),
  ts: ZEpochMs,
});
export type TContainerStatusFrame = z.infer<typeof ZContainerStatusFrame>;

export const ZMetricsFrame = z.object({
  type: z.literal("metrics"),
  /** Lets the central ignore a batch it already stored when a resend follows a lost ack. */
  batchId: ZWireId,
  containers: z.array(ZContainerSample).max(MAX_SAMPLES_PER_BATCH),
  host: ZHostSample.nullable(),
  /** Samples the spool had to drop since the last batch (link down too long). */
  droppedSamples: z.int().nonnegative(),
});
export type TMetricsFrame = z.infer<typeof ZMetricsFrame>;

export const ZEventKind = z.enum([
  "container.create",
  "container.start",
  "container.exit",
  "container.oom",
  "container.restart",
  "container.crashloop",
  /** The health check's verdict changed (`data.health`: starting, healthy or unhealthy). */
  "container.health",
  "container.stop",
  "container.remove",
  /** Found running after an agent restart and taken over. */
  "container.adopt",
  "image.pulled",
  "image.pull-failed",
  "image.removed",
  "image.built",
  "image.pushed",
  "agent.warning",
  "agent.error",
  /** A new binary was tried and did not connect; the old one runs again. */
  "agent.upgrade-failed",
]);
export type TEventKind = z.infer<typeof ZEventKind>;

export const ZEventData = z
  .record(
    z
      .string()
      .max(64)
      .regex(/^[A-Za-z0-9_.-]+$/),
    z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]),
  )
  .refine((data) => Object.keys(data).length <= MAX_EVENT_DATA_ENTRIES, {
    error: `at most ${MAX_EVENT_DATA_ENTRIES} data entries are allowed`,
  });

export const ZEventFrame = z.object({
  type: z.literal("event"),
  ts: ZEpochMs,
  kind: ZEventKind,
  containerId: ZContainerId.optional(),
  message: ZMessage,
  data: ZEventData.optional(),
});
export type TEventFrame = z.infer<typeof ZEventFrame>;

export const ZOpProgressFrame = z.object({
  type: z.literal("op.progress"),
  id: ZWireId,
  data: ZOpProgressData,
});
export type TOpProgressFrame = z.infer<typeof ZOpProgressFrame>;

function opSuccess<K extends TOperationKind, R extends z.ZodType>(kind: K, result: R) {
  return z.object({
    type: z.literal("op.result"),
    id: ZWireId,
    ok: z.literal(true),
    /** Repeats the request's kind so the result is validated against the right schema. */
    kind: z.literal(kind),
    result,
  });
}

export const ZOpSuccessFrame = z.discriminatedUnion("kind", [
  opSuccess("logs", ZLogsResult),
  opSuccess("image.pull", ZImagePullResult),
  opSuccess("image.list", ZImageListResult),
  opSuccess("image.remove", ZImageRemoveResult),
  opSuccess("image.build", ZImageBuildResult),
  opSuccess("image.push", ZImagePushResult),
  opSuccess("volume.create", ZVolumeCreateResult),
  opSuccess("volume.list", ZVolumeListResult),
  opSuccess("volume.remove", ZVolumeRemoveResult),
  opSuccess("network.create", ZNetworkCreateResult),
  opSuccess("network.list", ZNetworkListResult),
  opSuccess("network.remove", ZNetworkRemoveResult),
  opSuccess("agent.upgrade", ZAgentUpgradeResult),
]);
export type TOpSuccessFrame = z.infer<typeof ZOpSuccessFrame>;

export const ZOpFailureFrame = z.object({
  type: z.literal("op.result"),
  id: ZWireId,
  ok: z.literal(false),
  error: ZOperationError,
});
export type TOpFailureFrame = z.infer<typeof ZOpFailureFrame>;

export const ZOpResultFrame = z.discriminatedUnion("ok", [ZOpSuccessFrame, ZOpFailureFrame]);
export type TOpResultFrame = z.infer<typeof ZOpResultFrame>;

export const ZAgentFrame = z.discriminatedUnion("type", [
  ZHelloFrame,
  ZHeartbeatFrame,
  ZAckFrame,
  ZContainerStatusFrame,
  ZMetricsFrame,
  ZEventFrame,
  ZOpProgressFrame,
  ZOpResultFrame,
  ZErrorFrame,
]);
export type TAgentFrame = z.infer<typeof ZAgentFrame>;
export type TAgentFrameType = TAgentFrame["type"];

export const AGENT_FRAME_TYPES = [
  "hello",
  "heartbeat",
  "ack",
  "container.status",
  "metrics",
  "event",
  "op.progress",
  "op.result",
  "error",
] as const satisfies readonly TAgentFrameType[];
