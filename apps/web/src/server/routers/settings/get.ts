import { z } from "zod";
import { getSettings } from "../../services/settings/get-settings";
import { viewerProcedure } from "../../trpc";
import { ZSettings } from "./settings-schemas";

export const get = viewerProcedure
  .input(z.void())
  .output(ZSettings)
  .query(({ ctx }) => getSettings({ db: ctx.db }));
