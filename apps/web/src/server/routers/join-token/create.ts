// A join token and the exact command that makes a host join with it.
import { ZLabels } from "@fleet/shared/label-selector";
import { z } from "zod";
import { auditCallerOf } from "../../services/audit/record-audit-event";
import {
  createJoinToken,
  JOIN_TOKEN_DEFAULT_TTL,
  JOIN_TOKEN_MAX_TTL_MS,
  JOIN_TOKEN_MIN_TTL_MS,
} from "../../services/join-token/create-join-token";
import { adminProcedure } from "../../trpc";
import { ZDurationText } from "../common-schemas";

export const ZCreateJoinTokenInput = z
  .object({
    /** How long the token may be used, e.g. `15m`, `1h` (default), `2d`. */
    ttl: ZDurationText({ minMs: JOIN_TOKEN_MIN_TTL_MS, maxMs: JOIN_TOKEN_MAX_TTL_MS }).prefault(
      JOIN_TOKEN_DEFAULT_TTL,
    ),
    /** Labels the joining host gets (they win over the agent's own). */
    labels: ZLabels.default({}),
  })
  .prefault({});

export const ZCreateJoinTokenOutput = z.object({
  id: z.string(),
  /** `fleet_join_…`; shown only here. */
  token: z.string(),
  expiresAt: z.date(),
  labels: z.record(z.string(), z.string()),
  /** `curl … https://<central>:<agent port>/install.sh | sudo sh -s -- --join-token <token> --server-pin '<pin>' [--label k=v …]` */
  command: z.string(),
});

export const create = adminProcedure
  .input(ZCreateJoinTokenInput)
  .output(ZCreateJoinTokenOutput)
  .mutation(({ ctx, input }) =>
    createJoinToken({
      db: ctx.db,
      bus: ctx.bus,
      caller: auditCallerOf(ctx),
      now: new Date(ctx.clock.now()),
      createdById: ctx.user.id,
      ttlMs: input.ttl,
      labels: input.labels,
      agentEndpoint: ctx.services.agentEndpoint,
    }),
  );
