// Removes a host: its credential stops working and its agent is disconnected.
import { z } from "zod";
import { removeHost } from "../../services/host/remove-host";
import { adminProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZHost } from "./host-schemas";

export const ZRemoveHostInput = z.object({ id: ZRowId });

export const remove = adminProcedure
  .input(ZRemoveHostInput)
  .output(ZHost)
  .mutation(({ ctx, input }) =>
    removeHost({
      db: ctx.db,
      bus: ctx.bus,
      now: new Date(ctx.clock.now()),
      id: input.id,
      actorEmail: ctx.user.email,
      onHostRemoved: ctx.services.onHostRemoved,
    }),
  );
