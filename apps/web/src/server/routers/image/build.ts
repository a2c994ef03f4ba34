// Builds from a context sent first to `POST /api/uploads` (tRPC bodies are
// capped at 1 MiB; contexts are not). A mutation that starts the build and
// answers at once with its job id; `image.watchBuild` streams the output,
// which ends with `built` or `failed`. The build runs to its end whether
// anyone watches, and a watcher that reconnects resumes where it was.
import { ZImageRef } from "@fleet/shared/image-ref";
import { ZImageBuildOperation } from "@fleet/shared/protocol/operations";
import { z } from "zod";
import { startBuild } from "../../services/image/build-image";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZJobId } from "./image-schemas";

export const ZBuildImageInput = z.object({
  hostId: ZRowId,
  /** The tag the image gets, e.g. `fleet/app:1`. */
  tag: ZImageRef,
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile: ZImageBuildOperation.shape.dockerfile.optional(),
  /** What `POST /api/uploads` answered. */
  uploadId: ZImageBuildOperation.shape.uploadId,
});

export const ZBuildStarted = z.object({
  jobId: ZJobId,
  hostId: z.string(),
  hostName: z.string(),
});

export const build = operatorProcedure
  .input(ZBuildImageInput)
  .output(ZBuildStarted)
  .mutation(async ({ ctx, input }) => {
    const { jobId, host } = await ctx.services.imageJobs.start({
      kind: "build",
      ownerId: ctx.user.id,
      begin: (signal) =>
        startBuild({
          db: ctx.db,
          gateway: ctx.services.agents,
          bus: ctx.bus,
          log: ctx.log,
          now: () => new Date(ctx.clock.now()),
          uploads: ctx.services.uploads,
          hostId: input.hostId,
          tag: input.tag,
          ...(input.dockerfile !== undefined ? { dockerfile: input.dockerfile } : {}),
          uploadId: input.uploadId,
          userId: ctx.user.id,
          actorEmail: ctx.user.email,
          signal,
        }),
    });
    return { jobId, hostId: host.id, hostName: host.name };
  });
