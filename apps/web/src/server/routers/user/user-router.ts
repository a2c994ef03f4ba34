import { router } from "../../trpc";
import { create } from "./create";
import { list } from "./list";
import { remove } from "./remove";
import { update } from "./update";

export const userRouter = router({ list, create, update, remove });
