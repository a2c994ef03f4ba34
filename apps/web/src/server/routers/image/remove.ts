import { ZImageRefOrId } from "@fleet/shared/protocol/operations";
import { z } from "zod";
import { removeImage } from "../../services/image/remove-image";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";

export const ZRemoveImageInput = z.object({
  hostId: ZRowId,
  /** A reference (`busybox:1.36`) or an image id (`sha256:…` or a 12+ hex prefix). */
  image: ZImageRefOrId,
  /** Also remove it when containers (stopped ones) still use it, and all its tags. */
  force: z.boolean().default(false),
});

export const remove = operatorProcedure
  .input(ZRemoveImageInput)
  .output(z.object({ untagged: z.array(z.string()), deleted: z.array(z.string()) }))
  .mutation(({ ctx, input }) =>
    removeImage({
      db: ctx.db,
      gateway: ctx.services.agents,
      bus: ctx.bus,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
      image: input.image,
      force: input.force,
      actorEmail: ctx.user.email,
    }),
  );
