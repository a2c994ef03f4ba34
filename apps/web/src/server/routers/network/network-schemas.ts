import { z } from "zod";
import { ZHostObjectUser } from "../volume/volume-schemas";

export const ZNetwork = z.object({
  id: z.string(),
  hostId: z.string(),
  hostName: z.string(),
  name: z.string(),
  driver: z.string(),
  /** No route out of the host. */
  internal: z.boolean(),
  subnet: z.string().nullable(),
  gateway: z.string().nullable(),
  createdAt: z.date(),
  /** When the host's engine last listed it; null while only the central knows it. */
  seenAt: z.date().nullable(),
  usedBy: z.array(ZHostObjectUser),
});
