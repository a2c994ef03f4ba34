// metrics.* — series, the fleet summary and live samples, for any signed-in
// viewer. Thin: each procedure picks a range and calls the metrics service
// (`ctx.services.metrics`); the service owns resolutions and queries.
// May import: ../../trpc, ../../services/metrics/*, ../common-schemas, zod, @fleet/shared.
import { router } from "../../trpc";
import { container } from "./container";
import { fleet } from "./fleet";
import { host } from "./host";
import { live } from "./live";

export const metricsRouter = router({ fleet, host, container, live });
