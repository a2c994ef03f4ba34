// A deployment's revisions, newest first, each with its one-line diff.
import { z } from "zod";
import { deploymentHistory } from "../../services/deployment/deployment-history";
import { viewerProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { ZRevision } from "./deployment-schemas";

export const history = viewerProcedure
  .input(z.object({ id: ZId }))
  .output(z.object({ revision: z.int().positive(), items: z.array(ZRevision) }))
  .query(({ ctx, input }) => deploymentHistory({ db: ctx.db, deploymentId: input.id }));
