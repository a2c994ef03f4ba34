import { z } from "zod";
import { getHost } from "../../services/host/get-host";
import { viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZHost } from "./host-schemas";

export const ZGetHostInput = z.object({ id: ZRowId });

export const get = viewerProcedure
  .input(ZGetHostInput)
  .output(ZHost)
  .query(({ ctx, input }) => getHost({ db: ctx.db, id: input.id }));
