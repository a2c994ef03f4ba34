import { ZVolumeName } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { createVolume } from "../../services/volume/create-volume";
import { operatorProcedure } from "../../trpc";
import { ZId } from "../container/container-schemas";
import { ZVolume } from "./volume-schemas";

export const ZCreateVolumeInput = z.object({ hostId: ZId, name: ZVolumeName });

export const create = operatorProcedure
  .input(ZCreateVolumeInput)
  .output(z.object({ volume: ZVolume }))
  .mutation(async ({ ctx, input }) => ({
    volume: await createVolume({
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      now: () => new Date(ctx.clock.now()),
      hostId: input.hostId,
      name: input.name,
      actorEmail: ctx.user.email,
    }),
  }));
