// What every placement-changing service needs from the request context. At the
// routers' top level because containers and deployments both change placement.
import type { TrpcContext } from "../trpc";

export function placementDepsOf(ctx: Pick<TrpcContext, "db" | "bus" | "log" | "clock" | "services">) {
  return {
    db: ctx.db,
    bus: ctx.bus,
    log: ctx.log,
    desired: ctx.services.gateway,
    now: new Date(ctx.clock.now()),
  };
}
