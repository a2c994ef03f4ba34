// A deployment: `replicas` containers from one description, placed all or nothing.
import { z } from "zod";
import { createDeployment, MAX_REPLICAS } from "../../services/deployment/create-deployment";
import { ZUpdatePolicyInput } from "../../services/deployment/update-policy";
import { operatorProcedure } from "../../trpc";
import { containerSpecFields, templateFromFields } from "../container/container-spec-input";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentDetail } from "./deployment-schemas";

/** Replica names are `<name>-<index>`, which must stay a valid container name. */
export const ZDeploymentName = z
  .string()
  .trim()
  .max(100)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, {
    error: "must be 2-100 letters, digits, '_', '.' or '-', starting with a letter or digit",
  });

export const ZCreateDeploymentInput = z
  .object({
    name: ZDeploymentName,
    replicas: z.int().min(1).max(MAX_REPLICAS),
    ...containerSpecFields,
    /** How later changes roll out; unset knobs take their defaults. */
    policy: ZUpdatePolicyInput.optional(),
  })
  .transform((fields, ctx) => {
    const template = templateFromFields(fields, ctx);
    if (!template) return z.NEVER;
    return {
      name: fields.name,
      replicas: fields.replicas,
      template,
      strategy: fields.strategy,
      constraints: fields.constraints,
      policy: fields.policy,
    };
  });

export const create = operatorProcedure
  .input(ZCreateDeploymentInput)
  .output(ZDeploymentDetail)
  .mutation(({ ctx, input }) =>
    createDeployment({
      ...placementDepsOf(ctx),
      ...input,
      gateway: ctx.services.agents,
      actorEmail: ctx.user.email,
    }),
  );
