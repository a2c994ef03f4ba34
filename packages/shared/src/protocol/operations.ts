// One-off operations the central asks an agent to perform (`op.request`),
// their streamed progress (`op.progress`) and their results (`op.result`).
// Unlike desired state these are not retried on reconnect: they carry an id
// and a timeout, and a lost connection fails them.
import { z } from "zod";
import { ZNetworkName, ZVolumeName } from "../domain/container-spec";
import { ZContainerId, ZEpochMs } from "../domain/ids";
import { ZDigest, ZImageRef } from "../image-ref";
import { MAX_MESSAGE_LENGTH, ZWireId } from "./common";

export const MAX_LOG_TAIL = 10_000;
export const MAX_LOG_LINE_LENGTH = 16 * 1024;
export const MAX_IMAGES_LISTED = 10_000;
export const MAX_VOLUMES_LISTED = 10_000;
export const MAX_NETWORKS_LISTED = 1_000;
export const MAX_OP_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export const ZRegistryAuth = z.object({
  username: z.string().min(1).max(256),
  password: z.string().max(4096),
});
export type TRegistryAuth = z.infer<typeof ZRegistryAuth>;

/** An image id (`sha256:<hex>` or a 12-64 hex prefix) or a reference. */
export const ZImageRefOrId = z.union([z.string().regex(/^(?:sha256:)?[a-f0-9]{12,64}$/), ZImageRef], {
  error: "must be an image reference or an image id",
});

// ---- operations -------------------------------------------------------------

export const ZLogsOperation = z
  .object({
    kind: z.literal("logs"),
    containerId: ZContainerId,
    /** Lines from the end to start with; 0 with `follow` means only new lines. */
    tail: z.int().min(0).max(MAX_LOG_TAIL).default(100),
    /** Keep streaming `op.progress` log lines until cancelled or the container exits. */
    follow: z.boolean().default(false),
    since: ZEpochMs.optional(),
    stdout: z.boolean().default(true),
    stderr: z.boolean().default(true),
  })
  .refine((op) => op.stdout || op.stderr, { error: "ask for stdout, stderr or both" });

export const ZImagePullOperation = z.object({
  kind: z.literal("image.pull"),
  image: ZImageRef,
  auth: ZRegistryAuth.optional(),
});

export const ZImageListOperation = z.object({ kind: z.literal("image.list") });

export const ZImageRemoveOperation = z.object({
  kind: z.literal("image.remove"),
  image: ZImageRefOrId,
  force: z.boolean().default(false),
});

/** A path inside the build context: relative, no `..`. */
const ZContextPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((path) => !path.startsWith("/") && !path.split("/").includes(".."), {
    error: "must be a path inside the build context (relative, without '..')",
  });

export const ZImageBuildOperation = z.object({
  kind: z.literal("image.build"),
  tag: ZImageRef,
  dockerfile: ZContextPath.default("Dockerfile"),
  /** The context tar arrives beforehand as `upload.chunk` frames with this id. */
  uploadId: ZWireId,
});

export const ZImagePushOperation = z.object({
  kind: z.literal("image.push"),
  image: ZImageRef,
  auth: ZRegistryAuth.optional(),
});

export const ZVolumeCreateOperation = z.object({ kind: z.literal("volume.create"), name: ZVolumeName });
/** Lists the engine's volumes with their sizes (which the engine has to measure: slow for big volumes). */
export const ZVolumeListOperation = z.object({ kind: z.literal("volume.list") });
/** The engine refuses while a container (even a stopped one) uses the volume: the op fails with `conflict`. */
export const ZVolumeRemoveOperation = z.object({ kind: z.literal("volume.remove"), name: ZVolumeName });

export const ZNetworkCreateOperation = z.object({
  kind: z.literal("network.create"),
  name: ZNetworkName,
  /** No route out of the host: containers reach only each other. */
  internal: z.boolean().default(false),
});
export const ZNetworkListOperation = z.object({ kind: z.literal("network.list") });
export const ZNetworkRemoveOperation = z.object({ kind: z.literal("network.remove"), name: ZNetworkName });

/**
 * Replace the agent with the central's build: download it over the pinned
 * link, check it hashes to `sha256`, try it, keep it only if it connects.
 * The result comes once the binary is verified and staged; the switch follows.
 */
export const ZAgentUpgradeOperation = z.object({
  kind: z.literal("agent.upgrade"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex digits" }),
  /** The version line the new binary reports (`<version>+<commit>`), for logs and the trial. */
  version: z.string().min(1).max(64),
});

export const ZOperation = z.discriminatedUnion("kind", [
  ZLogsOperation,
  ZImagePullOperation,
  ZImageListOperation,
  ZImageRemoveOperation,
  ZImageBuildOperation,
  ZImagePushOperation,
  ZVolumeCreateOperation,
  ZVolumeListOperation,
  ZVolumeRemoveOperation,
  ZNetworkCreateOperation,
  ZNetworkListOperation,
  ZNetworkRemoveOperation,
  ZAgentUpgradeOperation,
]);
export type TOperation = z.infer<typeof ZOperation>;
export type TOperationInput = z.input<typeof ZOperation>;
export type TOperationKind = TOperation["kind"];
export type TOperationOf<K extends TOperationKind> = Extract<TOperation, { kind: K }>;
export const OPERATION_KINDS = [
  "logs",
  "image.pull",
  "image.list",
  "image.remove",
  "image.build",
  "image.push",
  "volume.create",
  "volume.list",
  "volume.remove",
  "network.create",
  "network.list",
  "network.remove",
  "agent.upgrade",
] as const satisfies readonly TOperationKind[];

// ---- progress ---------------------------------------------------------------

export const ZLogStream = z.enum(["stdout", "stderr"]);

export const ZLogLine = z.object({
  stream: ZLogStream,
  line: z.string().max(MAX_LOG_LINE_LENGTH),
  ts: ZEpochMs.optional(),
});
export type TLogLine = z.infer<typeof ZLogLine>;

export const ZOpProgressData = z.discriminatedUnion("kind", [
  ZLogLine.extend({ kind: z.literal("log") }),
  /** Pull and push progress, as the engine reports it per layer. */
  z.object({
    kind: z.literal("progress"),
    status: z.string().max(1024),
    /** Layer id, when the status is about one layer. */
    id: z.string().max(128).optional(),
    current: z.number().nonnegative().optional(),
    total: z.number().nonnegative().optional(),
  }),
  /** A line of build output (`Step 1/3 : FROM scratch`). */
  z.object({ kind: z.literal("output"), line: z.string().max(MAX_LOG_LINE_LENGTH) }),
]);
export type TOpProgressData = z.infer<typeof ZOpProgressData>;

// ---- results ----------------------------------------------------------------

export const ZLogsResult = z.object({
  /** For `follow`, empty: the lines went out as `op.progress`. */
  lines: z.array(ZLogLine).max(MAX_LOG_TAIL),
  /** True when older lines were left out to keep the frame under MAX_FRAME_BYTES. */
  truncated: z.boolean(),
});

const ZImageId = z.string().regex(/^sha256:[a-f0-9]{64}$/, { error: "must be sha256:<64 hex>" });

export const ZImageSummary = z.object({
  id: ZImageId,
  tags: z.array(z.string().max(512)).max(256),
  /** `repository@sha256:…` entries. */
  digests: z.array(z.string().max(512)).max(256),
  sizeBytes: z.int().nonnegative(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type TImageSummary = z.infer<typeof ZImageSummary>;

export const ZImagePullResult = z.object({
  /** Null when the engine did not report one. */
  digest: ZDigest.nullable(),
});
export const ZImageListResult = z.object({ images: z.array(ZImageSummary).max(MAX_IMAGES_LISTED) });
export const ZImageRemoveResult = z.object({
  untagged: z.array(z.string().max(512)).max(1000),
  deleted: z.array(z.string().max(512)).max(1000),
});
export const ZImageBuildResult = z.object({ imageId: ZImageId });
export const ZImagePushResult = z.object({ digest: ZDigest.nullable() });

export const ZVolumeSummary = z.object({
  name: ZVolumeName,
  driver: z.string().max(128),
  /** Null where the engine does not say. */
  createdAt: z.iso.datetime({ offset: true }).nullable(),
  /** Bytes used, as the engine measured them; null where it did not. */
  sizeBytes: z.int().nonnegative().nullable(),
  labels: z.record(z.string().max(256), z.string().max(4096)),
});
export type TVolumeSummary = z.infer<typeof ZVolumeSummary>;

export const ZNetworkSummary = z.object({
  /** The engine's network id. */
  id: z.string().min(1).max(128),
  /** Not ZNetworkName: the list includes the engine's own networks (`bridge`, `host`, …). */
  name: z.string().min(1).max(256),
  driver: z.string().max(128),
  internal: z.boolean(),
  /** First IPAM subnet and gateway, when there is one. */
  subnet: z.string().max(64).nullable(),
  gateway: z.string().max(64).nullable(),
  createdAt: z.iso.datetime({ offset: true }).nullable(),
});
export type TNetworkSummary = z.infer<typeof ZNetworkSummary>;

export const ZVolumeCreateResult = z.object({ volume: ZVolumeSummary });
export const ZVolumeListResult = z.object({ volumes: z.array(ZVolumeSummary).max(MAX_VOLUMES_LISTED) });
export const ZVolumeRemoveResult = z.object({ name: ZVolumeName });
export const ZNetworkCreateResult = z.object({ network: ZNetworkSummary });
export const ZNetworkListResult = z.object({ networks: z.array(ZNetworkSummary).max(MAX_NETWORKS_LISTED) });
export const ZNetworkRemoveResult = z.object({ name: ZNetworkName });

export const ZAgentUpgradeResult = z.object({
  /** Bytes of the verified binary now staged beside the running one. */
  bytes: z.int().nonnegative(),
});

export const ZOperationResults = {
  logs: ZLogsResult,
  "image.pull": ZImagePullResult,
  "image.list": ZImageListResult,
  "image.remove": ZImageRemoveResult,
  "image.build": ZImageBuildResult,
  "image.push": ZImagePushResult,
  "volume.create": ZVolumeCreateResult,
  "volume.list": ZVolumeListResult,
  "volume.remove": ZVolumeRemoveResult,
  "network.create": ZNetworkCreateResult,
  "network.list": ZNetworkListResult,
  "network.remove": ZNetworkRemoveResult,
  "agent.upgrade": ZAgentUpgradeResult,
} as const satisfies Record<TOperationKind, z.ZodType>;
export type TOperationResult<K extends TOperationKind> = z.infer<(typeof ZOperationResults)[K]>;

export const ZOperationErrorCode = z.enum([
  "invalid",
  "not_found",
  "timeout",
  "cancelled",
  /** The container engine refused or failed; the message carries its words. */
  "engine",
  /** The engine refused because something uses it (a volume or network in use, an image a container runs). */
  "conflict",
  "unsupported",
  "internal",
]);
export type TOperationErrorCode = z.infer<typeof ZOperationErrorCode>;

export const ZOperationError = z.object({
  code: ZOperationErrorCode,
  message: z.string().max(MAX_MESSAGE_LENGTH),
});
export type TOperationError = z.infer<typeof ZOperationError>;
