// Any part of the spec or the update policy. A spec change is a new revision,
// rolled out by the policy; `dryRun` only answers with the diff.
import { z } from "zod";
import { updateDeployment } from "../../services/deployment/update-deployment";
import { ZUpdatePolicyInput } from "../../services/deployment/update-policy";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../common-schemas";
import { containerSpecFields, ZPlacementStrategyInput } from "../container/container-spec-input";
import { placementDepsOf } from "../placement-deps";
import { ZDeploymentChangeResult } from "./deployment-schemas";
import { applySpecChanges } from "./spec-changes";

const { strategy: _strategy, constraints: _constraints, ...specFields } = containerSpecFields;

export const ZUpdateDeploymentInput = z
  .object(specFields)
  .partial()
  .extend({
    id: ZId,
    strategy: ZPlacementStrategyInput.optional(),
    constraints: containerSpecFields.constraints.removeDefault().optional(),
    /** Variables to set beside the current ones (`env` replaces them all); values stay on the central. */
    envAdd: containerSpecFields.env,
    /** Variables to drop. */
    envRemove: z.array(z.string().max(256)).max(256).optional(),
    /** The knobs to change; the others keep their values. */
    policy: ZUpdatePolicyInput.optional(),
    /** Only answer with what would change. */
    dryRun: z.boolean().default(false),
  });

export const update = operatorProcedure
  .input(ZUpdateDeploymentInput)
  .output(ZDeploymentChangeResult)
  .mutation(({ ctx, input }) => {
    const { id, strategy, constraints, policy, dryRun, envAdd, envRemove, ...changes } = input;
    return updateDeployment({
      ...placementDepsOf(ctx),
      id,
      edit: (current) => applySpecChanges(current, changes, { add: envAdd, remove: envRemove }),
      strategy,
      constraints,
      policy,
      dryRun,
      gateway: ctx.services.agents,
      actorEmail: ctx.user.email,
    });
  });
