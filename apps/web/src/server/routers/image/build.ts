// Builds from a context sent first to `POST /api/uploads` (tRPC bodies are
// capped at 1 MiB; contexts are not). A subscription: the build's output
// streams as it is written, and the stream ends with `built` or `failed`.
// The build is cancelled if the client goes away, so a reconnect cannot
// resume it: it is refused with a message saying so.
import { ZImageRef } from "@fleet/shared/image-ref";
import { ZImageBuildOperation } from "@fleet/shared/protocol/operations";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { AppError } from "../../errors";
import { buildImage } from "../../services/image/build-image";
import { operatorProcedure } from "../../trpc";
import { uploadStoreOf } from "../../uploads";
import { ZRowId } from "../common-schemas";
import { zTrackedAsyncIterable } from "../metrics/async-iterable-output";
import { ZBuildProgress } from "./image-schemas";

export const ZBuildImageInput = z.object({
  hostId: ZRowId,
  /** The tag the image gets, e.g. `fleet/app:1`. */
  tag: ZImageRef,
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile: ZImageBuildOperation.shape.dockerfile.optional(),
  /** What `POST /api/uploads` answered. */
  uploadId: ZImageBuildOperation.shape.uploadId,
  lastEventId: z.string().max(32).nullish(),
});

export const build = operatorProcedure
  .input(ZBuildImageInput)
  .output(zTrackedAsyncIterable(ZBuildProgress))
  .subscription(async function* ({ ctx, input, signal }) {
    if (input.lastEventId) {
      throw new AppError(
        "PRECONDITION_FAILED",
        "the connection to this build was lost, which cancelled it: upload the context again and start a new build",
      );
    }
    let seq = 0;
    for await (const progress of buildImage({
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      uploads: uploadStoreOf(ctx.services),
      hostId: input.hostId,
      tag: input.tag,
      ...(input.dockerfile !== undefined ? { dockerfile: input.dockerfile } : {}),
      uploadId: input.uploadId,
      userId: ctx.user.id,
      actorEmail: ctx.user.email,
      signal,
    })) {
      yield tracked(String(++seq), progress);
    }
  });
