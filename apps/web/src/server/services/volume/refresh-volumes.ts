// Asks each connected host's agent for `volume.list` (with sizes, which the
// engine measures: slow for big volumes) and stores the answer. A host that
// cannot answer keeps its rows and is reported as failed.
import type { PrismaClient } from "../../db";
import { AppError, isAppError } from "../../errors";
import type { Logger } from "../../logger";
import type { OpGateway } from "../image/op-gateway";
import { storeHostVolumes } from "./store-host-volumes";

export const VOLUME_LIST_TIMEOUT_MS = 60_000;

export interface THostObjectRefreshOutcome {
  hostId: string;
  hostName: string;
  ok: boolean;
  error: string | null;
  count: number;
}

/** Asks one host for its volumes and stores them; throws the agent's or the gateway's error. */
export async function refreshHostVolumes(options: {
  db: PrismaClient;
  gateway: Pick<OpGateway, "request">;
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

/** The hosts to refresh: one (which must exist and be connected) or every connected one. */
export async function hostsToRefresh(options: {
  db: PrismaClient;
  gateway: Pick<OpGateway, "isConnected">;
  hostId?: string | undefined;
}): Promise<{ id: string; name: string }[]> {
  const { db, gateway } = options;
  const hosts = await db.host.findMany({
    where: { removedAt: null, ...(options.hostId ? { id: options.hostId } : {}) },
    orderBy: { name: "asc" },
    select: { id: true, name: true },
  });
  if (options.hostId) {
    const [host] = hosts;
    if (!host) throw new AppError("NOT_FOUND", `no host with id ${options.hostId}`);
    if (!gateway.isConnected(host.id))
      throw new AppError("PRECONDITION_FAILED", `host ${host.name} is not connected`);
  }
  return hosts.filter((host) => gateway.isConnected(host.id));
}

/** Runs `refreshOne` on each host in parallel, reporting each host's outcome. */
export async function refreshEachHost(options: {
  hosts: { id: string; name: string }[];
  log: Pick<Logger, "warn">;
  what: string;
  refreshOne: (hostId: string) => Promise<number>;
}): Promise<THostObjectRefreshOutcome[]> {
  return Promise.all(
    options.hosts.map(async (host): Promise<THostObjectRefreshOutcome> => {
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

export async function refreshVolumes(options: {
  db: PrismaClient;
  gateway: OpGateway;
  log: Pick<Logger, "warn">;
  now: () => Date;
  hostId?: string | undefined;
}): Promise<THostObjectRefreshOutcome[]> {
  const { db, gateway } = options;
  const hosts = await hostsToRefresh({ db, gateway, hostId: options.hostId });
  return refreshEachHost({
    hosts,
    log: options.log,
    what: "volumes",
    refreshOne: (hostId) => refreshHostVolumes({ db, gateway, hostId, now: options.now }),
  });
}
