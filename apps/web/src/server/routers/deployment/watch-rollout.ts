// The newest rollout as it moves, over SSE: `tracked(<rollout id>:<seq>, …)`.
// A reconnecting client first gets the current state again (it is a state,
// not a log, so nothing between is lost).
import { tracked } from "@trpc/server";
import { z } from "zod";
import { watchRollout as watch } from "../../services/deployment/watch-rollout";
import { viewerProcedure } from "../../trpc";
import { zTrackedAsyncIterable } from "../async-iterable-output";
import { ZId } from "../common-schemas";
import { ZRolloutDetail } from "./deployment-schemas";

export const watchRollout = viewerProcedure
  .input(z.object({ id: ZId, lastEventId: z.string().max(100).nullish() }))
  .output(zTrackedAsyncIterable(z.object({ rollout: ZRolloutDetail.nullable() })))
  .subscription(async function* ({ ctx, input, signal }) {
    const stream = watch({
      db: ctx.db,
      bus: ctx.bus,
      deploymentId: input.id,
      now: () => new Date(ctx.clock.now()),
      signal,
    });
    for await (const { seq, rollout } of stream) {
      yield tracked(`${rollout?.rollout.id ?? "none"}:${seq}`, { rollout });
    }
  });
