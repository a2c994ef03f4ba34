// GET /api/trpc/health: is the central up, can it reach its database. Public
// so load balancers and `curl` can ask without credentials.
import { z } from "zod";
import { publicProcedure } from "../../trpc";

export const ZHealthOutput = z.object({
  status: z.enum(["ok", "degraded"]),
  database: z.enum(["ok", "unreachable"]),
  time: z.date(),
  uptimeSeconds: z.number(),
});

export const health = publicProcedure
  .input(z.void())
  .output(ZHealthOutput)
  .query(async ({ ctx }) => {
    const database = await ctx.db.$queryRaw`SELECT 1`.then(
      () => "ok" as const,
      (error: unknown) => {
        ctx.log.warn({ err: error }, "health: the database did not answer");
        return "unreachable" as const;
      },
    );
    return {
      status: database === "ok" ? "ok" : "degraded",
      database,
      time: new Date(ctx.clock.now()),
      uptimeSeconds: Math.round(process.uptime()),
    };
  });
