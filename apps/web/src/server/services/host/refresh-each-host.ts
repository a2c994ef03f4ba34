// Asking hosts' agents what their engines hold now (images, volumes,
// networks): which hosts to ask, and one outcome per host, so a host that
// cannot answer keeps its stored rows and is reported as failed.
import type { PrismaClient } from "../../db/client";
import { isAppError } from "../../errors";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { connectedHost } from "./connected-host";

export interface THostRefreshOutcome {
  hostId: string;
  hostName: string;
  ok: boolean;
  error: string | null;
  /** What the host holds now (when ok). */
  count: number;
}

/** The hosts to refresh: one (which must exist and be connected) or every connected one. */
export async function hostsToRefresh(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "isConnected">;
  hostId?: string | undefined;
}): Promise<{ id: string; name: string }[]> {
  const { db, gateway } = options;
  if (options.hostId) return [await connectedHost({ db, gateway, hostId: options.hostId })];
  const hosts = await db.host.findMany({
    where: { removedAt: null },
    orderBy: { name: "asc" },
    select: { id: true, name: true },
  });
  const connected = await Promise.all(hosts.map((host) => gateway.isConnected(host.id)));
  return hosts.filter((_, index) => connected[index]);
}

/** Runs `refreshOne` on each host in parallel, reporting each host's outcome. */
export async function refreshEachHost(options: {
  hosts: { id: string; name: string }[];
  log: Pick<Logger, "warn">;
  /** What is refreshed, for messages: `images`, `volumes`, … */
  what: string;
  refreshOne: (hostId: string) => Promise<number>;
}): Promise<THostRefreshOutcome[]> {
  return Promise.all(
    options.hosts.map(async (host): Promise<THostRefreshOutcome> => {
      try {
        const count = await options.refreshOne(host.id);
        return { hostId: host.id, hostName: host.name, ok: true, error: null, count };
      } catch (error) {
        if (!isAppError(error))
          options.log.warn({ err: error, hostId: host.id }, `storing a host's ${options.what} failed`);
        const message = isAppError(error) ? error.message : `storing the ${options.what} failed`;
        return { hostId: host.id, hostName: host.name, ok: false, error: message, count: 0 };
      }
    }),
  );
}
