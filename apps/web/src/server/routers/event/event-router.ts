// event.* — the event log: a page at a time, or live with resume.
// May import: ../../trpc, ../../services/event/*, ../common-schemas, ../metrics/async-iterable-output, zod.
import { router } from "../../trpc";
import { list } from "./list";
import { stream } from "./stream";

export const eventRouter = router({ list, stream });
