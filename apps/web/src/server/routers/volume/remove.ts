import { z } from "zod";
import { removeHostObject } from "../../services/host-object/remove-host-object";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../container/container-schemas";

export const ZRemoveVolumeInput = z.object({ id: ZId });

export const remove = operatorProcedure
  .input(ZRemoveVolumeInput)
  .output(z.object({ ok: z.literal(true) }))
  .mutation(async ({ ctx, input }) => {
    await removeHostObject({
      kind: "volume",
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      now: () => new Date(ctx.clock.now()),
      id: input.id,
      actorEmail: ctx.user.email,
    });
    return { ok: true as const };
  });
