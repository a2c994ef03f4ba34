// Asks each connected host's agent for `volume.list` (with sizes, which the
// engine measures: slow for big volumes) and stores the answer. A host that
// cannot answer keeps its rows and is reported as failed.
import type { PrismaClient } from "../../db/client";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { hostsToRefresh, refreshEachHost, type THostRefreshOutcome } from "../host/refresh-each-host";
import { storeHostVolumes } from "./store-host-volumes";

export const VOLUME_LIST_TIMEOUT_MS = 60_000;

/** Asks one host for its volumes and stores them; throws the agent's or the gateway's error. */
export async function refreshHostVolumes(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  hostId: string;
  now: () => Date;
}): Promise<number> {
  const { db, gateway, hostId } = options;
  const { volumes } = await gateway.request(
    hostId,
    { kind: "volume.list" },
    { timeoutMs: VOLUME_LIST_TIMEOUT_MS },
  );
  await storeHostVolumes({ db, hostId, volumes, now: options.now() });
  return volumes.length;
}

export async function refreshVolumes(options: {
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
    what: "volumes",
    refreshOne: (hostId) => refreshHostVolumes({ db, gateway, hostId, now: options.now }),
  });
}
