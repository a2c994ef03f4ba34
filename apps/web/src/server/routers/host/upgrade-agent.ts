// Agent upgrades: which build the central serves (anyone who sees hosts may
// compare), and the roll that replaces agents with it (administrators only:
// it runs new code as root on every host it reaches).
import { z } from "zod";
import { adminProcedure, viewerProcedure } from "../../trpc";
import { ZRowId } from "../common-schemas";

export const ZUpgradeAgentInput = z.union([
  z.object({ hostId: ZRowId }).strict(),
  z.object({ outdated: z.literal(true) }).strict(),
]);

export const ZUpgradeAgentOutput = z.object({
  /** `<version>+<commit>` of the binary the hosts are upgraded to. */
  build: z.string(),
  /** In the order they are upgraded; empty when nothing is outdated. */
  hosts: z.array(z.object({ id: z.string(), name: z.string() })),
});

export const upgradeAgent = adminProcedure
  .input(ZUpgradeAgentInput)
  .output(ZUpgradeAgentOutput)
  .mutation(({ ctx, input }) =>
    ctx.services.agentUpgrades.start({
      target: "hostId" in input ? { hostId: input.hostId } : { outdated: true },
      actorEmail: ctx.user.email,
    }),
  );

export const ZAgentBuildOutput = z.object({
  /** `<version>+<commit>` of the agent binary this central serves; null when none is built. */
  served: z.string().nullable(),
  /** True while an upgrade roll runs. */
  rolling: z.boolean(),
  /** The running roll, or the last one since the central started. */
  roll: z
    .object({
      build: z.string(),
      startedBy: z.string(),
      startedAt: z.date(),
      finished: z.boolean(),
      hosts: z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          state: z.enum(["waiting", "upgrading", "upgraded", "failed", "skipped"]),
          message: z.string().nullable(),
        }),
      ),
    })
    .nullable(),
});

export const agentBuild = viewerProcedure
  .input(z.object({}).strict().optional())
  .output(ZAgentBuildOutput)
  .query(async ({ ctx }) => ({
    served: (await ctx.services.agentUpgrades.served())?.build ?? null,
    rolling: ctx.services.agentUpgrades.rolling,
    roll: ctx.services.agentUpgrades.lastRoll(),
  }));
