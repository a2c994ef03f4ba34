// metrics.* — series, the fleet summary, live samples and start latency, for
// any signed-in viewer. Thin: each procedure picks a range and calls the
// metrics service (`ctx.services.metrics`), which owns resolutions and
// queries; start latency reads container rows, not samples, so it calls its
// query with `ctx.db` directly.
// May import: ../../trpc, ../../services/metrics/*, ../common-schemas, zod, @fleet/shared.
import { router } from "../../trpc";
import { container } from "./container";
import { fleet } from "./fleet";
import { host } from "./host";
import { live } from "./live";
import { startLatency } from "./start-latency";

export const metricsRouter = router({ fleet, host, container, live, startLatency });
