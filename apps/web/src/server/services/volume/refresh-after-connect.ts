// After a host connects, its engine's volumes and networks replace the stored
// rows: whatever changed while it was away (a volume removed by hand, an
// engine reinstalled) shows and steers placement again. The gateway runs this
// in the background; a failure leaves the old rows and is logged.
import type { PrismaClient } from "../../db";
import { isAppError } from "../../errors";
import type { Logger } from "../../logger";
import type { OpGateway } from "../image/op-gateway";
import { refreshHostNetworks } from "../network/refresh-networks";
import { refreshHostVolumes } from "./refresh-volumes";

export async function refreshHostObjectsAfterConnect(options: {
  db: PrismaClient;
  gateway: Pick<OpGateway, "request">;
  log: Pick<Logger, "info" | "warn">;
  now: () => Date;
  hostId: string;
  hostName: string;
}): Promise<void> {
  const { hostId, hostName, log } = options;
  const outcomes = await Promise.allSettled([refreshHostVolumes(options), refreshHostNetworks(options)]);
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === "fulfilled") continue;
    const what = index === 0 ? "volumes" : "networks";
    // An agent's refusal (an engine without the API, a host gone again) is expected; anything else is a bug.
    if (isAppError(outcome.reason)) {
      log.info(
        { hostId, hostName, reason: outcome.reason.message },
        `reading the host's ${what} after it connected failed`,
      );
    } else {
      log.warn(
        { err: outcome.reason, hostId, hostName },
        `storing the host's ${what} after it connected failed`,
      );
    }
  }
}
