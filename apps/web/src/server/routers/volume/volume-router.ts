// volume.* — named volumes per host (see ../host-object/host-object-router.ts).
// volume.refresh also measures their sizes.
import { ZVolumeName } from "@fleet/shared/domain/container-spec";
import { z } from "zod";
import { volumeKind } from "../../services/volume/volume-kind";
import { ZId } from "../common-schemas";
import { hostObjectRouter } from "../host-object/host-object-router";
import { ZHostObjectUser } from "../host-object/host-object-schemas";

export const ZVolume = z.object({
  id: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  name: z.string(),
  driver: z.string(),
  /** Bytes used as the engine last measured them; null until measured. */
  sizeBytes: z.number().nonnegative().nullable(),
  labels: z.record(z.string(), z.string()),
  createdAt: z.date(),
  /** When the host's engine last listed it; null while only placement knows it. */
  seenAt: z.date().nullable(),
  usedBy: z.array(ZHostObjectUser),
});

export const volumeRouter = hostObjectRouter({
  kind: volumeKind,
  ZView: ZVolume,
  ZCreateInput: z.object({ hostId: ZId, name: ZVolumeName }),
  createOptions: () => ({}),
});
