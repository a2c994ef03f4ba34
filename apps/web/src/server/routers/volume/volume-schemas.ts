// What volume.* and network.* answer: host objects with the containers using them.
import { z } from "zod";
import { ZId, ZSearchText } from "../container/container-schemas";

/** Rows per page at most. */
export const MAX_HOST_OBJECTS_PAGE = 200;

/** A not-removed container on the object's host that mounts (or joins) it. */
export const ZHostObjectUser = z.object({
  id: z.string(),
  name: z.string(),
  /** Never `removed`: removed containers use nothing. */
  desiredState: z.enum(["running", "stopped"]),
});

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

/** volume.list and network.list take the same filter. */
export const ZListHostObjectsInput = z
  .object({
    hostId: ZId.optional(),
    /** Substring of the name, any case. */
    name: ZSearchText(64).optional(),
    /** `nextCursor` of the previous page. */
    cursor: z.string().max(1024).nullish(),
    limit: z.int().min(1).max(MAX_HOST_OBJECTS_PAGE).default(50),
  })
  .prefault({});

export const ZHostObjectRefreshOutcome = z.object({
  hostId: z.string(),
  hostName: z.string(),
  ok: z.boolean(),
  error: z.string().nullable(),
  /** Objects the host holds now (when ok). */
  count: z.int().nonnegative(),
});

/** Without `hostId`: every connected host. */
export const ZRefreshHostObjectsInput = z.object({ hostId: ZId.optional() }).prefault({});
