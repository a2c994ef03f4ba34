// A mutation that starts the pull and answers at once with its job id and
// the hosts it goes to; `image.watchPull` streams the progress. The pull
// belongs to the central, not to the request: it runs to its end whether
// anyone watches, and a watcher that reconnects resumes where it was.
// No registry credentials yet: what the agents' engines already know is used.
import { ZImageRef } from "@fleet/shared/image-ref";
import { z } from "zod";
import { startPull } from "../../services/image/pull-image";
import { operatorProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";
import { ZJobId } from "./image-schemas";

export const ZPullImageInput = z
  .object({
    image: ZImageRef,
    /** These hosts (offline ones end at once as failed)… */
    hostIds: z.array(ZRowId).min(1).max(1000).optional(),
    /** …or every online host. */
    all: z.literal(true).optional(),
  })
  .refine((input) => (input.hostIds === undefined) !== (input.all === undefined), {
    error: "name the hosts with hostIds, or pull onto all online hosts with all: true (not both)",
    path: ["hostIds"],
  });

export const ZPullStarted = z.object({
  jobId: ZJobId,
  /** The hosts the pull goes to, by name; each ends with one `done` entry in the watch. */
  hosts: z.array(z.object({ hostId: z.string(), hostName: z.string() })),
});

export const pull = operatorProcedure
  .input(ZPullImageInput)
  .output(ZPullStarted)
  .mutation(async ({ ctx, input }) => {
    const { jobId, hosts } = await ctx.services.imageJobs.start({
      kind: "pull",
      ownerId: ctx.user.id,
      begin: (signal) =>
        startPull({
          db: ctx.db,
          gateway: ctx.services.agents,
          bus: ctx.bus,
          log: ctx.log,
          now: () => new Date(ctx.clock.now()),
          image: input.image,
          target: input.hostIds ? { hostIds: input.hostIds } : { all: true },
          actorEmail: ctx.user.email,
          signal,
        }),
    });
    return { jobId, hosts: hosts.map((host) => ({ hostId: host.id, hostName: host.name })) };
  });
