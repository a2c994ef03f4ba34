// Desired state `running` again, on its own host if that still has room.
import { z } from "zod";
import { startContainer } from "../../services/container/start-container";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { placementDepsOf } from "../placement-deps";
import { ZContainer } from "./container-schemas";

export const ZStartContainerInput = z.object({ id: ZId });

export const start = operatorProcedure
  .input(ZStartContainerInput)
  .output(ZContainer)
  .mutation(({ ctx, input }) =>
    startContainer({ ...placementDepsOf(ctx), id: input.id, actorEmail: ctx.user.email }),
  );
