import { ZBindMountPrefixes } from "@fleet/shared/domain/container-spec";
import { z } from "zod";

export const ZSettings = z.object({
  /** Host paths bind mounts may use: a path equal to one of these or under it. */
  bindMountPrefixes: z.array(z.string()),
});

export const ZUpdateSettingsInput = z.object({ bindMountPrefixes: ZBindMountPrefixes });
