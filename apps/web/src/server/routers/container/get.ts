import { z } from "zod";
import { getContainer } from "../../services/container/get-container";
import { viewerProcedure } from "../../trpc";
import { ZId, ZSearchText } from "../common-schemas";
import { ZContainerWithEvents } from "./container-schemas";

/** By id, or by the name of a container not removed. */
export const ZGetContainerInput = z.union([z.object({ id: ZId }), z.object({ name: ZSearchText(128) })]);

export const get = viewerProcedure
  .input(ZGetContainerInput)
  .output(ZContainerWithEvents)
  .query(({ ctx, input }) => getContainer({ db: ctx.db, ref: input }));
