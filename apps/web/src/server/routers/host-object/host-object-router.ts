// The procedures of one host-object noun (`volume.*`, `network.*`): the stored
// list with the containers using each, create and remove through the host's
// agent, refresh from the engines. A noun brings its service descriptor, the
// zod shape of one object and its create input.
// May import: ../../trpc, ../../services/host-object/*, ./host-object-schemas, zod.
import { z } from "zod";
import { createHostObject } from "../../services/host-object/create-host-object";
import type {
  THostObjectItem,
  THostObjectKind,
  THostObjectSummary,
} from "../../services/host-object/host-object-kind";
import type { THostObjectView } from "../../services/host-object/host-object-users";
import { listHostObjects } from "../../services/host-object/list-host-objects";
import { refreshHostObjects } from "../../services/host-object/refresh-host-objects";
import { removeHostObject } from "../../services/host-object/remove-host-object";
import { operatorProcedure, router, type TrpcContext, viewerProcedure } from "../../trpc";
import {
  ZHostObjectRefreshOutcome,
  ZListHostObjectsInput,
  ZRefreshHostObjectsInput,
  ZRemoveHostObjectInput,
} from "./host-object-schemas";

type TCreateInputShape = { hostId: z.ZodType<string>; name: z.ZodType<string> };

export function hostObjectRouter<
  TNoun extends string,
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
  TZView extends z.ZodType<unknown, THostObjectView<TItem>>,
  TZCreateInput extends z.ZodObject<TCreateInputShape>,
>(noun: {
  kind: THostObjectKind<TItem, TSummary, TCreate, TNoun>;
  /** One object as the API answers it; the service's view must fit it. */
  ZView: TZView;
  ZCreateInput: TZCreateInput;
  /** What the create service takes beyond host and name, from the input. */
  createOptions: (input: z.output<TZCreateInput>) => TCreate;
}) {
  // The casts below are where TypeScript cannot follow the noun's types
  // through zod; the constraints above check them where a noun is made.
  const { kind, ZView } = noun;
  const ZCreated = z.object({ [kind.noun]: ZView }) as z.ZodType<
    Record<TNoun, z.output<TZView>>,
    Record<TNoun, z.input<TZView>>
  >;
  const agentDeps = (ctx: TrpcContext) => ({
    db: ctx.db,
    gateway: ctx.services.agents,
    now: () => new Date(ctx.clock.now()),
    kind,
  });
  return router({
    list: viewerProcedure
      .input(ZListHostObjectsInput)
      .output(z.object({ items: z.array(ZView), nextCursor: z.string().nullable() }))
      .query(async ({ ctx, input }) => {
        const page = await listHostObjects({ db: ctx.db, kind, ...input });
        return page as { items: z.input<TZView>[]; nextCursor: string | null };
      }),
    create: operatorProcedure
      .input(noun.ZCreateInput)
      .output(ZCreated)
      .mutation(async ({ ctx, input: parsed }) => {
        const input = parsed as z.output<TZCreateInput>;
        const created = await createHostObject({
          ...agentDeps(ctx),
          bus: ctx.bus,
          hostId: input.hostId,
          name: input.name,
          create: noun.createOptions(input),
          actorEmail: ctx.user.email,
        });
        // tRPC's resolver type stays deferred for a generic output: `{ volume: … }` is ZCreated's input.
        return { [kind.noun]: created } as never;
      }),
    remove: operatorProcedure
      .input(ZRemoveHostObjectInput)
      .output(z.object({ ok: z.literal(true) }))
      .mutation(async ({ ctx, input }) => {
        await removeHostObject({
          ...agentDeps(ctx),
          bus: ctx.bus,
          id: input.id,
          actorEmail: ctx.user.email,
        });
        return { ok: true as const };
      }),
    // Asks hosts which objects they hold now (list answers what was last stored).
    refresh: operatorProcedure
      .input(ZRefreshHostObjectsInput)
      .output(z.object({ hosts: z.array(ZHostObjectRefreshOutcome) }))
      .mutation(async ({ ctx, input }) => ({
        hosts: await refreshHostObjects({
          ...agentDeps(ctx),
          log: ctx.log,
          hostId: input.hostId,
        }),
      })),
  });
}
