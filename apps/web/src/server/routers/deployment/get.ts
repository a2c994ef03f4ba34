// A deployment with its replicas and where each runs.
import { z } from "zod";
import { MAX_REPLICAS } from "../../services/deployment/create-deployment";
import { getDeployment } from "../../services/deployment/get-deployment";
import { viewerProcedure } from "../../trpc";
import { ZId, ZSearchText } from "../common-schemas";
import { ZDeploymentDetail } from "./deployment-schemas";

/** The most replicas one answer can hold: a rollout may run two containers per index. */
const MAX_REPLICAS_LIMIT = 2 * MAX_REPLICAS;
/** A page showing a big deployment asks for its first replicas only; programs get all by default. */
const ZReplicasLimit = { replicasLimit: z.int().min(1).max(MAX_REPLICAS_LIMIT).optional() };

/** By id, or by the name of a deployment not removed. */
export const ZGetDeploymentInput = z.union([
  z.object({ id: ZId, ...ZReplicasLimit }),
  z.object({ name: ZSearchText(100), ...ZReplicasLimit }),
]);

export const get = viewerProcedure
  .input(ZGetDeploymentInput)
  .output(ZDeploymentDetail)
  .query(({ ctx, input }) => getDeployment({ db: ctx.db, ...input }));
