// Removes the container for good; its name and capacity are free at once.
import { z } from "zod";
import { removeContainer } from "../../services/container/remove-container";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZContainer } from "./container-schemas";

export const ZRemoveContainerInput = z.object({ id: ZId });

export const remove = operatorProcedure
  .input(ZRemoveContainerInput)
  .output(ZContainer)
  .mutation(({ ctx, input }) =>
    removeContainer({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
