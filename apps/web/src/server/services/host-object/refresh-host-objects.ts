// Asks connected hosts' agents which objects of one kind their engines hold
// and stores the answer. A host that cannot answer keeps its rows and is
// reported as failed.
import type { PrismaClient } from "../../db/client";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { hostsToRefresh, refreshEachHost, type THostRefreshOutcome } from "../host/refresh-each-host";
import type { THostObjectItem, THostObjectKind, THostObjectSummary } from "./host-object-kind";
import { storeHostObjects } from "./store-host-objects";

/** Asks one host and stores its answer; throws the agent's or the gateway's error. */
export async function refreshHostObjectsOf<
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
>(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  kind: THostObjectKind<TItem, TSummary, TCreate>;
  hostId: string;
  now: () => Date;
}): Promise<number> {
  const { db, kind, hostId } = options;
  const listed = await kind.agent.list(options.gateway, hostId);
  return storeHostObjects({ db, kind, hostId, listed, now: options.now() });
}

/** One host (which must be connected) or every connected one. */
export async function refreshHostObjects<
  TItem extends THostObjectItem,
  TSummary extends THostObjectSummary,
  TCreate extends object,
>(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  kind: THostObjectKind<TItem, TSummary, TCreate>;
  log: Pick<Logger, "warn">;
  now: () => Date;
  hostId?: string | undefined;
}): Promise<THostRefreshOutcome[]> {
  const hosts = await hostsToRefresh(options);
  return refreshEachHost({
    hosts,
    log: options.log,
    what: options.kind.plural,
    refreshOne: (hostId) => refreshHostObjectsOf({ ...options, hostId }),
  });
}
