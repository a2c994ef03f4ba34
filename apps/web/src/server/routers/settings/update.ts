import { updateSettings } from "../../services/settings/update-settings";
import { adminProcedure } from "../../trpc";
import { ZSettings, ZUpdateSettingsInput } from "./settings-schemas";

export const update = adminProcedure
  .input(ZUpdateSettingsInput)
  .output(ZSettings)
  .mutation(({ ctx, input }) =>
    updateSettings({
      db: ctx.db,
      bus: ctx.bus,
      desired: ctx.services.gateway,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      bindMountPrefixes: input.bindMountPrefixes,
      actorId: ctx.user.id,
      actorEmail: ctx.user.email,
    }),
  );
