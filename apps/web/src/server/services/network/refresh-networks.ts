// Asks each connected host's agent for `network.list` and stores its user networks.
import type { PrismaClient } from "../../db/client";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { hostsToRefresh, refreshEachHost, type THostRefreshOutcome } from "../host/refresh-each-host";
import { storeHostNetworks } from "./store-host-networks";

export const NETWORK_LIST_TIMEOUT_MS = 30_000;

/** Asks one host for its networks and stores the user ones; throws the agent's or the gateway's error. */
export async function refreshHostNetworks(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  hostId: string;
  now: () => Date;
}): Promise<number> {
  const { db, gateway, hostId } = options;
  const { networks } = await gateway.request(
    hostId,
    { kind: "network.list" },
    { timeoutMs: NETWORK_LIST_TIMEOUT_MS },
  );
  return storeHostNetworks({ db, hostId, networks, now: options.now() });
}

export async function refreshNetworks(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  log: Pick<Logger, "warn">;
  now: () => Date;
  hostId?: string | undefined;
}): Promise<THostRefreshOutcome[]> {
  const { db, gateway } = options;
  const hosts = await hostsToRefresh({ db, gateway, hostId: options.hostId });
  return refreshEachHost({
    hosts,
    log: options.log,
    what: "networks",
    refreshOne: (hostId) => refreshHostNetworks({ db, gateway, hostId, now: options.now }),
  });
}
