import { router } from "../../trpc";
import { create } from "./create";
import { get } from "./get";
import { history } from "./history";
import { list } from "./list";
import { remove } from "./remove";
import { rollback } from "./rollback";
import { rollout } from "./rollout";
import { pause, promote, resume } from "./rollout-control";
import { scale } from "./scale";
import { update } from "./update";
import { watchRollout } from "./watch-rollout";

export const deploymentRouter = router({
  list,
  get,
  history,
  rollout,
  watchRollout,
  create,
  scale,
  update,
  rollback,
  pause,
  resume,
  promote,
  remove,
});
