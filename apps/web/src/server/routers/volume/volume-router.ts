// volume.* — named volumes per host: the stored list with the containers using
// each, creating and removing through the host's agent, refreshing from the engines.
// May import: ../../trpc, ../../services/volume/*, ../container/container-schemas, @fleet/shared, zod.
import { router } from "../../trpc";
import { create } from "./create";
import { list } from "./list";
import { refresh } from "./refresh";
import { remove } from "./remove";

export const volumeRouter = router({ list, create, remove, refresh });
