// A subscription rather than a mutation: pulls take minutes, and a CLI and
// the dashboard both want the per-host progress as it happens. Each message
// is `tracked(<seq>)`; the stream ends once every host has a `done` entry.
// A client that reconnects mid-pull (its pulls were cancelled when it went
// away) starts the pull again, which the engines make cheap for the layers
// they already have. No registry credentials here: a subscription's input
// travels in the URL, where proxies and logs keep it.
import { ZImageRef } from "@fleet/shared/image-ref";
import { tracked } from "@trpc/server";
import { z } from "zod";
import { pullImage } from "../../services/image/pull-image";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { zTrackedAsyncIterable } from "../metrics/async-iterable-output";
import { ZPullProgress } from "./image-schemas";

export const ZPullImageInput = z
  .object({
    image: ZImageRef,
    /** These hosts (offline ones end at once as failed)… */
    hostIds: z.array(ZRowId).min(1).max(1000).optional(),
    /** …or every online host. */
    all: z.literal(true).optional(),
    lastEventId: z.string().max(32).nullish(),
  })
  .refine((input) => (input.hostIds === undefined) !== (input.all === undefined), {
    error: "name the hosts with hostIds, or pull onto all online hosts with all: true (not both)",
    path: ["hostIds"],
  });

export const pull = operatorProcedure
  .input(ZPullImageInput)
  .output(zTrackedAsyncIterable(ZPullProgress))
  .subscription(async function* ({ ctx, input, signal }) {
    let seq = 0;
    for await (const progress of pullImage({
      db: ctx.db,
      gateway: ctx.services.gateway,
      bus: ctx.bus,
      log: ctx.log,
      now: () => new Date(ctx.clock.now()),
      image: input.image,
      target: input.hostIds ? { hostIds: input.hostIds } : { all: true },
      actorEmail: ctx.user.email,
      signal,
    })) {
      yield tracked(String(++seq), progress);
    }
  });
