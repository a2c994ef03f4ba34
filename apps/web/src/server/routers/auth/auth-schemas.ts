import { z } from "zod";
import { ZUserRole } from "../../services/auth/roles";

export const ZAuthUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: ZUserRole,
});
