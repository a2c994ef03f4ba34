// Removes an image (by reference or id) from one host's engine, then brings
// that host's image rows up to date.
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { connectedHost } from "../host/connected-host";
import { recordImageEvent } from "./image-events";
import { refreshHostImages } from "./refresh-images";

export const IMAGE_REMOVE_TIMEOUT_MS = 60_000;

export async function removeImage(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  log: Pick<Logger, "warn">;
  now: () => Date;
  hostId: string;
  image: string;
  force: boolean;
  actorEmail: string;
}): Promise<{ untagged: string[]; deleted: string[] }> {
  const { db, gateway, hostId, image, force } = options;
  const host = await connectedHost({ db, gateway, hostId });
  const result = await gateway.request(
    hostId,
    { kind: "image.remove", image, force },
    { timeoutMs: IMAGE_REMOVE_TIMEOUT_MS },
  );
  await refreshHostImages({ db, gateway, hostId, now: options.now }).catch((error: unknown) =>
    options.log.warn({ err: error, hostId }, "refreshing a host's images after a removal failed"),
  );
  await recordImageEvent({
    db,
    bus: options.bus,
    kind: "image.removed",
    hostId,
    message: `${options.actorEmail} removed ${image} from host ${host.name}${force ? " (forced)" : ""}`,
    data: { image, force, by: options.actorEmail, untagged: result.untagged, deleted: result.deleted },
    now: options.now(),
  });
  return result;
}
