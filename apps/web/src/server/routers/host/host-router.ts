import { router } from "../../trpc";
import { drain } from "./drain";
import { get } from "./get";
import { list } from "./list";
import { remove } from "./remove";
import { agentBuild, upgradeAgent } from "./upgrade-agent";
import { usage } from "./usage";

export const hostRouter = router({ list, get, usage, drain, remove, agentBuild, upgradeAgent });
