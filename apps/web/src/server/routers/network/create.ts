import { ZNetworkName } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { createNetwork } from "../../services/network/create-network";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../container/container-schemas";
import { ZNetwork } from "./network-schemas";

export const ZCreateNetworkInput = z.object({
  hostId: ZId,
  name: ZNetworkName,
  /** No route out of the host: containers on it reach only each other. */
  internal: z.boolean().default(false),
});

export const create = operatorProcedure
  .input(ZCreateNetworkInput)
  .output(z.object({ network: ZNetwork }))
  .mutation(async ({ ctx, input }) => ({
    network: await createNetwork({
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
      name: input.name,
      internal: input.internal,
      actorEmail: ctx.user.email,
    }),
  }));
