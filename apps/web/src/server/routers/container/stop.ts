// Desired state `stopped`: the agent stops it; its capacity is given back.
import { z } from "zod";
import { stopContainer } from "../../services/container/stop-container";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZContainer } from "./container-schemas";

export const ZStopContainerInput = z.object({ id: ZId });

export const stop = operatorProcedure
  .input(ZStopContainerInput)
  .output(ZContainer)
  .mutation(({ ctx, input }) =>
    stopContainer({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
