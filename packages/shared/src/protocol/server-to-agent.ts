// Frames the central sends to an agent.
import { z } from "zod";
import { ZBindMountPrefixes, ZContainerSpec } from "../domain/container-spec";
import { ZDesiredRunState } from "../domain/container-state";
import { ZEpochMs, ZHostId } from "../domain/ids";
import { ZErrorFrame, ZWireId } from "./common";
import { MAX_OP_TIMEOUT_MS, ZOperation } from "./operations";

export const MAX_DESIRED_CONTAINERS = 1000;
/** Decoded bytes per upload chunk. */
export const MAX_UPLOAD_CHUNK_BYTES = 512 * 1024;
const MAX_UPLOAD_CHUNK_BASE64_LENGTH = 4 * Math.ceil(MAX_UPLOAD_CHUNK_BYTES / 3);

const ZIntervalMs = z.int().min(100).max(3_600_000);

export const ZWelcomeFrame = z.object({
  type: z.literal("welcome"),
  protocolVersion: z.int().min(1),
  hostId: ZHostId,
  /** Only in answer to a join: the agent must store it and present it from then on. */
  credential: z.string().min(1).max(512).optional(),
  settings: z.object({
    metricsIntervalMs: ZIntervalMs,
    heartbeatIntervalMs: ZIntervalMs,
  }),
  serverTime: ZEpochMs,
});
export type TWelcomeFrame = z.infer<typeof ZWelcomeFrame>;

/**
 * One container of a desired set: its spec, and whether it should run. A
 * `stopped` one stays on the host (exited, logs kept) and is not restarted;
 * it is not created if missing. `runState` is not part of the spec, so it
 * never changes the spec hash: stopping and starting keep the same engine
 * container. Absent means `running` (a `desired.json` kept by an older agent).
 */
export const ZDesiredContainer = ZContainerSpec.safeExtend({
  runState: ZDesiredRunState.default("running"),
});
export type TDesiredContainer = z.infer<typeof ZDesiredContainer>;
export type TDesiredContainerInput = z.input<typeof ZDesiredContainer>;

/** The whole desired set for the host; a higher generation replaces every earlier one. */
export const ZDesiredFrame = z
  .object({
    type: z.literal("desired"),
    generation: z.int().nonnegative(),
    containers: z.array(ZDesiredContainer).max(MAX_DESIRED_CONTAINERS),
    /**
     * The host paths bind mounts may use, fleet-wide policy sent with every
     * set: the agent refuses to create a container whose bind source's real
     * path (symlinks resolved on the host) lies outside them. Empty: no bind
     * mounts at all. Absent only in a `desired.json` kept by an older agent.
     */
    bindMountPrefixes: ZBindMountPrefixes.default([]),
  })
  .superRefine((frame, ctx) => {
    for (const field of ["id", "name"] as const) {
      const seen = new Set<string>();
      frame.containers.forEach((spec, index) => {
        if (seen.has(spec[field])) {
          ctx.addIssue({
            code: "custom",
            message: `duplicate container ${field} "${spec[field]}"`,
            path: ["containers", index, field],
          });
        }
        seen.add(spec[field]);
      });
    }
  });
export type TDesiredFrame = z.infer<typeof ZDesiredFrame>;
export type TDesiredFrameInput = z.input<typeof ZDesiredFrame>;

export const ZOpRequestFrame = z.object({
  type: z.literal("op.request"),
  id: ZWireId,
  /** The agent gives up (and answers `timeout`) after this long. */
  timeoutMs: z.int().min(1).max(MAX_OP_TIMEOUT_MS),
  op: ZOperation,
});
export type TOpRequestFrame = z.infer<typeof ZOpRequestFrame>;
export type TOpRequestFrameInput = z.input<typeof ZOpRequestFrame>;

/** Stop an operation early, e.g. a followed log. */
export const ZOpCancelFrame = z.object({
  type: z.literal("op.cancel"),
  id: ZWireId,
});
export type TOpCancelFrame = z.infer<typeof ZOpCancelFrame>;

/** A piece of a build context (a tar), sent before the `image.build` request that names it. */
export const ZUploadChunkFrame = z.object({
  type: z.literal("upload.chunk"),
  uploadId: ZWireId,
  seq: z.int().nonnegative(),
  data: z.base64().max(MAX_UPLOAD_CHUNK_BASE64_LENGTH),
  final: z.boolean(),
});
export type TUploadChunkFrame = z.infer<typeof ZUploadChunkFrame>;

export const ZServerFrame = z.discriminatedUnion("type", [
  ZWelcomeFrame,
  ZDesiredFrame,
  ZOpRequestFrame,
  ZOpCancelFrame,
  ZUploadChunkFrame,
  ZErrorFrame,
]);
export type TServerFrame = z.infer<typeof ZServerFrame>;
/** A frame as it may be written: defaulted fields (a desired container's `runState`) may be left out. */
export type TServerFrameInput = z.input<typeof ZServerFrame>;
export type TServerFrameType = TServerFrame["type"];

export const SERVER_FRAME_TYPES = [
  "welcome",
  "desired",
  "op.request",
  "op.cancel",
  "upload.chunk",
  "error",
] as const satisfies readonly TServerFrameType[];
