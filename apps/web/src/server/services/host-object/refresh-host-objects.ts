// Asks connected hosts' agents which objects of one kind their engines hold
// and stores the answer. A host that cannot answer keeps its rows and is
// reported as failed. Storing brings the host's rows in line with the
// listing: each listed object the kind stores is upserted (seen now) and the
// rows of objects the engine no longer has are deleted, except those a
// not-removed container on that host still uses (its agent creates the object
// again when it starts it).
import type { PrismaClient } from "../../db/client";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { hostsToRefresh, refreshEachHost, type THostRefreshOutcome } from "../host/refresh-each-host";
import type { TSomeHostObjectKind } from "./host-object-kind";
import { namesInUseOnHost } from "./host-object-users";

/** Asks one host and stores its answer; throws the agent's or the gateway's error. */
export async function refreshHostObjectsOf(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  kind: TSomeHostObjectKind;
  hostId: string;
  now: () => Date;
}): Promise<number> {
  const { db, kind, hostId } = options;
  const listed = await kind.agent.list(options.gateway, hostId);
  const stored = listed.filter((summary) => kind.stores?.(summary) ?? true);
  const now = options.now();
  await db.$transaction(async (tx) => {
    // Serialized with placement, which writes volume rows under the same host lock.
    await tx.$queryRaw`SELECT 1 FROM hosts WHERE id = ${hostId} FOR UPDATE`;
    const inUse = await namesInUseOnHost({ db: tx, kind, hostId });
    const keep = [...new Set([...stored.map((summary) => summary.name), ...inUse])];
    await kind.deleteMany(tx, { hostId, name: { notIn: keep } });
    for (const summary of stored) await kind.upsert(tx, hostId, summary, now);
  });
  return stored.length;
}

/** One host (which must be connected) or every connected one. */
export async function refreshHostObjects(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  kind: TSomeHostObjectKind;
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
