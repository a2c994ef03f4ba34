// image.* — images per host: the stored list, refreshing it from the agents,
// removing, and pulling and building from an uploaded context as jobs that
// mutations start and subscriptions watch.
// May import: ../../trpc, ../../services/image/*, ../../uploads, ../common-schemas,
// ../metrics/async-iterable-output, @fleet/shared, zod.
import { router } from "../../trpc";
import { build } from "./build";
import { cancelJob } from "./cancel-job";
import { digestsInUse } from "./digests-in-use";
import { list } from "./list";
import { pull } from "./pull";
import { refresh } from "./refresh";
import { remove } from "./remove";
import { tags } from "./tags";
import { watchBuild, watchPull } from "./watch";

export const imageRouter = router({
  list,
  tags,
  refresh,
  pull,
  watchPull,
  remove,
  build,
  watchBuild,
  cancelJob,
  digestsInUse,
});
