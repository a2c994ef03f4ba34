import { z } from "zod";

export const ZHostImage = z.object({
  hostId: z.string(),
  hostName: z.string(),
  /** The engine's image id, `sha256:<hex>`. */
  id: z.string(),
  tags: z.array(z.string()),
  /** `repository@sha256:…` */
  digests: z.array(z.string()),
  sizeBytes: z.number().nonnegative(),
  createdAt: z.date(),
  /** When its host last listed it. */
  seenAt: z.date(),
});

export const ZImageRefreshOutcome = z.object({
  hostId: z.string(),
  hostName: z.string(),
  ok: z.boolean(),
  images: z.int().nonnegative(),
  error: z.string().nullable(),
});

/** What image.pull and image.build answer, for image.watchPull, image.watchBuild and image.cancelJob. */
export const ZJobId = z
  .string()
  .max(64)
  .regex(/^job_[A-Za-z0-9_-]+$/, { error: "must be a job id as image.pull or image.build answered it" });

export const ZWatchJobInput = z.object({
  jobId: ZJobId,
  /** The last tracked id seen: the watch goes on after it (the client sends it itself on reconnecting). */
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, { error: "must be a tracked id this watch sent" })
    .nullish()
    .transform((id) => (id ? Number(id) : 0)),
});

export const ZPullProgress = z.object({
  hostId: z.string(),
  hostName: z.string(),
  /** The engine's words per layer, or `requested`, then `pulled` or `failed` (with `done`). */
  status: z.string(),
  layer: z.string().optional(),
  current: z.number().nonnegative().optional(),
  total: z.number().nonnegative().optional(),
  done: z.boolean(),
  digest: z.string().nullable().optional(),
  error: z.string().optional(),
});

export const ZBuildProgress = z.discriminatedUnion("type", [
  z.object({ type: z.literal("output"), line: z.string() }),
  z.object({ type: z.literal("built"), imageId: z.string() }),
  z.object({ type: z.literal("failed"), error: z.string() }),
]);

export const ZDigestInUse = z.object({
  /** The image name without tag or digest. */
  repository: z.string(),
  digest: z.string(),
  /** Containers not removed that run it. */
  containers: z.int().nonnegative(),
  hosts: z.array(z.object({ hostId: z.string(), hostName: z.string(), containers: z.int().nonnegative() })),
});
