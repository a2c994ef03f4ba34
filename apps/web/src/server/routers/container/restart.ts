// Replaces the running container with a fresh one of the same spec (see restart-container.ts).
import { z } from "zod";
import { restartContainer } from "../../services/container/restart-container";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZContainer } from "./container-schemas";

export const ZRestartContainerInput = z.object({ id: ZId });

export const restart = operatorProcedure
  .input(ZRestartContainerInput)
  .output(ZContainer)
  .mutation(({ ctx, input }) =>
    restartContainer({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
