// event.* — the event log: a page at a time, or live with resume.
// Audit events (`audit.…`) reach administrators only: both procedures set the
// filter's includeAudit from the caller's role.
// May import: ../../trpc, ../../services/event/*, ../common-schemas, ../metrics/async-iterable-output, @fleet/shared, zod.
import { router } from "../../trpc";
import { list } from "./list";
import { stream } from "./stream";

export const eventRouter = router({ list, stream });
