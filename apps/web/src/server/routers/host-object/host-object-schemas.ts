// What every host-object noun (volume.*, network.*) takes and answers.
import { z } from "zod";
import { ZId, ZSearchText } from "../common-schemas";

/** Rows per page at most. */
export const MAX_HOST_OBJECTS_PAGE = 200;

/** A not-removed container on the object's host that mounts (or joins) it. */
export const ZHostObjectUser = z.object({
  id: z.string(),
  name: z.string(),
  /** Never `removed`: removed containers use nothing. */
  desiredState: z.enum(["running", "stopped"]),
});

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

export const ZRemoveHostObjectInput = z.object({ id: ZId });
