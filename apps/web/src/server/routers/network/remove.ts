import { z } from "zod";
import { removeHostObject } from "../../services/host-object/remove-host-object";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../container/container-schemas";

export const ZRemoveNetworkInput = z.object({ id: ZId });

export const remove = operatorProcedure
  .input(ZRemoveNetworkInput)
  .output(z.object({ ok: z.literal(true) }))
  .mutation(async ({ ctx, input }) => {
    await removeHostObject({
      kind: "network",
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      now: () => new Date(ctx.clock.now()),
      id: input.id,
      actorEmail: ctx.user.email,
    });
    return { ok: true as const };
  });
