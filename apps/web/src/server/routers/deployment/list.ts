import { z } from "zod";
import { listDeployments } from "../../services/deployment/list-deployments";
import { viewerProcedure } from "../../trpc";
import { ZDeployment } from "./deployment-schemas";

export const ZListDeploymentsInput = z.object({ includeRemoved: z.boolean().default(false) }).prefault({});

export const list = viewerProcedure
  .input(ZListDeploymentsInput)
  .output(z.object({ items: z.array(ZDeployment) }))
  .query(({ ctx, input }) => listDeployments({ db: ctx.db, includeRemoved: input.includeRemoved }));
