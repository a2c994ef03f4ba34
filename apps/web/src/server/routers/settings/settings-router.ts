// settings.* — fleet-wide settings an administrator changes (the host paths bind mounts may use).
// May import: ../../trpc, ../../services/settings/*, @fleet/shared, zod.
import { router } from "../../trpc";
import { get } from "./get";
import { update } from "./update";

export const settingsRouter = router({ get, update });
