import { ZUserRole } from "@fleet/shared/domain/roles";
import { z } from "zod";
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "../../services/auth/passwords";

export const ZUser = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: ZUserRole,
  createdAt: z.date(),
  updatedAt: z.date(),
  disabledAt: z.date().nullable(),
});

// Emails compare without case or surrounding spaces.
export const ZEmail = z.string().trim().toLowerCase().pipe(z.email().max(320));
export const ZUserName = z.string().trim().min(1).max(200);
export const ZPassword = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH);
