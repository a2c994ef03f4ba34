import { router } from "../../trpc";
import { drain } from "./drain";
import { get } from "./get";
import { list } from "./list";
import { remove } from "./remove";

export const hostRouter = router({ list, get, drain, remove });
