import { ZUserRole } from "@fleet/shared/domain/roles";
import { z } from "zod";

export const ZAuthUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: ZUserRole,
});
