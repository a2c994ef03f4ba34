// Replaces the running container with a fresh one of the same spec (see restart-container.ts).
import { z } from "zod";
import { restartContainer } from "../../services/container/restart-container";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZContainer } from "./container-schemas";
import { placementDepsOf } from "./placement-deps";

export const ZRestartContainerInput = z.object({ id: ZRowId });

export const restart = operatorProcedure
  .input(ZRestartContainerInput)
  .output(ZContainer)
  .mutation(({ ctx, input }) =>
    restartContainer({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
