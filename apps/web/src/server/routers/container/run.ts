// Runs one container where the scheduler says; the answer says where and why.

import { z } from "zod";
import { runContainer } from "../../services/container/run-container";
import { operatorProcedure } from "../../trpc";
import { placementDepsOf } from "../placement-deps";
import { ZContainer, ZPlacement } from "./container-schemas";
import { ZRunContainerInput } from "./container-spec-input";

export const ZRunContainerOutput = z.object({ container: ZContainer, placement: ZPlacement });

export const run = operatorProcedure
  .input(ZRunContainerInput)
  .output(ZRunContainerOutput)
  .mutation(({ ctx, input }) =>
    runContainer({
      ...placementDepsOf(ctx),
      name: input.name,
      template: input.template,
      strategy: input.strategy,
      constraints: input.constraints,
    }),
  );
