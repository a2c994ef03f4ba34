// Draining keeps a host's containers running but places nothing new on it.
import { z } from "zod";
import { drainHost } from "../../services/host/drain-host";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZHost } from "./host-schemas";

export const ZDrainHostInput = z.object({ id: ZRowId, draining: z.boolean() });

export const drain = operatorProcedure
  .input(ZDrainHostInput)
  .output(ZHost)
  .mutation(({ ctx, input }) =>
    drainHost({
      db: ctx.db,
      bus: ctx.bus,
      now: new Date(ctx.clock.now()),
      id: input.id,
      draining: input.draining,
      actorEmail: ctx.user.email,
    }),
  );
