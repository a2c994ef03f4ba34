import { router } from "../../trpc";
import { get } from "./get";
import { list } from "./list";
import { logs } from "./logs";
import { logsFollow } from "./logs-follow";
import { plan } from "./plan";
import { remove } from "./remove";
import { restart } from "./restart";
import { run } from "./run";
import { start } from "./start";
import { stop } from "./stop";

export const containerRouter = router({
  list,
  get,
  plan,
  run,
  stop,
  start,
  restart,
  remove,
  logs,
  logsFollow,
});
