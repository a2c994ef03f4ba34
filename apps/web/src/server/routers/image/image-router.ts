// image.* — images per host: the stored list, refreshing it from the agents,
// pulling (streamed), removing, and building from an uploaded context (streamed).
// May import: ../../trpc, ../../services/image/*, ../../uploads, ../common-schemas,
// ../metrics/async-iterable-output, @fleet/shared, zod.
import { router } from "../../trpc";
import { build } from "./build";
import { digestsInUse } from "./digests-in-use";
import { list } from "./list";
import { pull } from "./pull";
import { refresh } from "./refresh";
import { remove } from "./remove";

export const imageRouter = router({ list, refresh, pull, remove, build, digestsInUse });
