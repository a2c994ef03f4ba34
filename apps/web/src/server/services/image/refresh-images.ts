// Brings the HostImage table in line with what hosts' engines hold: asks each
// agent for `image.list` and, in one transaction per host, upserts what it
// listed and deletes what it no longer has. A host that cannot answer keeps
// its rows (with their old `seenAt`) and is reported as failed.
import type { TImageSummary } from "@fleet/shared/protocol/operations";
import type { PrismaClient } from "../../db/client";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { hostsToRefresh, refreshEachHost } from "../host/refresh-each-host";

export const IMAGE_LIST_TIMEOUT_MS = 30_000;

export interface TImageRefreshOutcome {
  hostId: string;
  hostName: string;
  ok: boolean;
  /** Images the host holds now (when ok). */
  images: number;
  error: string | null;
}

// Postgres refuses NUL in text; an engine never puts one in a tag, so such a string is not worth keeping.
const storable = (values: string[]) => values.filter((value) => !value.includes("\u0000"));

/** Replaces the host's rows with `images` (as of `now`), serialized per host by a row lock. */
export async function storeHostImages(options: {
  db: PrismaClient;
  hostId: string;
  images: TImageSummary[];
  now: Date;
}): Promise<void> {
  const { db, hostId, images, now } = options;
  const rows = images.map((image) => ({
    image_id: image.id,
    repo_tags: storable(image.tags),
    repo_digests: storable(image.digests),
    size_bytes: image.sizeBytes,
    created_at: image.createdAt,
  }));
  await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM hosts WHERE id = ${hostId} FOR UPDATE`;
    await tx.hostImage.deleteMany({ where: { hostId, imageId: { notIn: rows.map((row) => row.image_id) } } });
    if (rows.length === 0) return;
    // One statement for any number of images; jsonb_to_recordset turns JSON arrays into text[].
    await tx.$executeRaw`
      INSERT INTO host_images (host_id, image_id, repo_tags, repo_digests, size_bytes, created_at, seen_at)
      SELECT ${hostId}, x.image_id, x.repo_tags, x.repo_digests, x.size_bytes, x.created_at, ${now}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(image_id text, repo_tags text[], repo_digests text[], size_bytes bigint, created_at timestamptz)
      ON CONFLICT (host_id, image_id) DO UPDATE SET
        repo_tags = EXCLUDED.repo_tags,
        repo_digests = EXCLUDED.repo_digests,
        size_bytes = EXCLUDED.size_bytes,
        created_at = EXCLUDED.created_at,
        seen_at = EXCLUDED.seen_at`;
  });
}

/** Asks one host for its images and stores them; throws the agent's or the gateway's error. */
export async function refreshHostImages(options: {
  db: PrismaClient;
  gateway: Pick<AgentOperations, "request">;
  hostId: string;
  now: () => Date;
  signal?: AbortSignal;
}): Promise<number> {
  const { db, gateway, hostId } = options;
  const { images } = await gateway.request(
    hostId,
    { kind: "image.list" },
    { timeoutMs: IMAGE_LIST_TIMEOUT_MS, ...(options.signal ? { signal: options.signal } : {}) },
  );
  await storeHostImages({ db, hostId, images, now: options.now() });
  return images.length;
}

/** One host (which must be connected) or every connected host, in parallel. */
export async function refreshImages(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  log: Pick<Logger, "warn">;
  now: () => Date;
  hostId?: string;
}): Promise<TImageRefreshOutcome[]> {
  const { db, gateway } = options;
  const hosts = await hostsToRefresh({ db, gateway, hostId: options.hostId });
  const outcomes = await refreshEachHost({
    hosts,
    log: options.log,
    what: "images",
    refreshOne: (hostId) => refreshHostImages({ db, gateway, hostId, now: options.now }),
  });
  return outcomes.map(({ count, ...outcome }) => ({ ...outcome, images: count }));
}
