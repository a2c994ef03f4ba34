import { router } from "../../trpc";
import { create } from "./create";
import { list } from "./list";

export const joinTokenRouter = router({ create, list });
