import { z } from "zod";
import { listNetworks } from "../../services/network/list-networks";
import { viewerProcedure } from "../../trpc";
import { ZListHostObjectsInput } from "../volume/volume-schemas";
import { ZNetwork } from "./network-schemas";

export const list = viewerProcedure
  .input(ZListHostObjectsInput)
  .output(z.object({ items: z.array(ZNetwork), nextCursor: z.string().nullable() }))
  .query(({ ctx, input }) => listNetworks({ db: ctx.db, ...input }));
