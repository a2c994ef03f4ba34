import { router } from "../../trpc";
import { create } from "./create";
import { get } from "./get";
import { list } from "./list";
import { remove } from "./remove";
import { scale } from "./scale";
import { update } from "./update";

export const deploymentRouter = router({ list, get, create, scale, update, remove });
