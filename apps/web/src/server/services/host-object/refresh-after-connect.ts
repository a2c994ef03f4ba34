// After a host connects, its engine's images, volumes and networks replace the
// stored rows: whatever changed while it was away (a volume removed by hand,
// an image built by hand, an engine reinstalled) shows and steers placement
// and image pinning again. The gateway runs this
// in the background; a failure leaves the old rows and is logged.
import type { PrismaClient } from "../../db/client";
import { isAppError } from "../../errors";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { refreshHostImages } from "../image/refresh-images";
import { networkKind } from "../network/network-kind";
import { volumeKind } from "../volume/volume-kind";
import { refreshHostObjectsOf } from "./refresh-host-objects";

export async function refreshHostObjectsAfterConnect(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  log: Pick<Logger, "info" | "warn">;
  now: () => Date;
  hostId: string;
  hostName: string;
}): Promise<void> {
  const { hostId, hostName, log } = options;
  const refreshes = {
    images: refreshHostImages(options),
    volumes: refreshHostObjectsOf({ ...options, kind: volumeKind }),
    networks: refreshHostObjectsOf({ ...options, kind: networkKind }),
  };
  const outcomes = await Promise.allSettled(Object.values(refreshes));
  const kinds = Object.keys(refreshes);
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === "fulfilled") continue;
    const what = kinds[index];
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
