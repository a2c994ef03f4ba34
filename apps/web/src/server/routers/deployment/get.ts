// A deployment with its replicas and where each runs.
import { z } from "zod";
import { getDeployment } from "../../services/deployment/get-deployment";
import { viewerProcedure } from "../../trpc";
import { ZId, ZSearchText } from "../common-schemas";
import { ZDeploymentDetail } from "./deployment-schemas";

/** By id, or by the name of a deployment not removed. */
export const ZGetDeploymentInput = z.union([z.object({ id: ZId }), z.object({ name: ZSearchText(100) })]);

export const get = viewerProcedure
  .input(ZGetDeploymentInput)
  .output(ZDeploymentDetail)
  .query(({ ctx, input }) => getDeployment({ db: ctx.db, ...input }));
