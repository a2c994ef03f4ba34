// Which image digests the fleet's containers run, and where: the images
// page's answer to "is every replica on the same bits, and what can go".
import { familiarImageRef, parseImageRef } from "@fleet/shared/image-ref";
import type { PrismaClient } from "../../db/client";

export const MAX_DIGESTS_IN_USE = 500;

export interface TDigestInUse {
  /** The image's name without tag or digest, as docker prints it (`busybox`, `127.0.0.1:5000/fleet/app`). */
  repository: string;
  digest: string;
  containers: number;
  hosts: { hostId: string; hostName: string; containers: number }[];
}

interface TGroupRow {
  image: string;
  digest: string;
  host_id: string | null;
  host_name: string | null;
  containers: number;
}

/** `busybox:1.36@sha256:…` → `busybox`; a reference that no longer parses is shown as stored, less its suffixes. */
export function repositoryOf(image: string): string {
  try {
    const ref = parseImageRef(image);
    // With a digest and no tag the familiar form is `name@digest`: everything before the `@` is the name.
    const familiar = familiarImageRef({ ...ref, tag: null, digest: "sha256:0" });
    return familiar.slice(0, familiar.lastIndexOf("@"));
  } catch {
    return image.replace(/@.*$/, "").replace(/:[^:/]*$/, "");
  }
}

export async function listDigestsInUse(options: {
  db: PrismaClient;
  hostId?: string;
}): Promise<TDigestInUse[]> {
  const { db, hostId } = options;
  // Grouped by the image as written too: `app:1` and `app@sha256:…` are one repository, merged below.
  const rows = await db.$queryRaw<TGroupRow[]>`
    SELECT c.image, c.image_digest AS digest, c.host_id, h.name AS host_name, count(*)::int AS containers
    FROM containers c
    LEFT JOIN hosts h ON h.id = c.host_id
    WHERE c.removed_at IS NULL
      AND c.image_digest IS NOT NULL
      AND (${hostId ?? null}::text IS NULL OR c.host_id = ${hostId ?? null}::text)
    GROUP BY c.image, c.image_digest, c.host_id, h.name`;

  const byKey = new Map<string, TDigestInUse>();
  for (const row of rows) {
    const repository = repositoryOf(row.image);
    const key = `${repository}@${row.digest}`;
    let item = byKey.get(key);
    if (!item) {
      item = { repository, digest: row.digest, containers: 0, hosts: [] };
      byKey.set(key, item);
    }
    item.containers += row.containers;
    // A replica waiting for a host counts for the digest but is on no host.
    if (row.host_id === null) continue;
    const host = item.hosts.find((entry) => entry.hostId === row.host_id);
    if (host) host.containers += row.containers;
    else
      item.hosts.push({
        hostId: row.host_id,
        hostName: row.host_name ?? row.host_id,
        containers: row.containers,
      });
  }
  const items = [...byKey.values()];
  for (const item of items) {
    item.hosts.sort((a, b) => b.containers - a.containers || a.hostName.localeCompare(b.hostName));
  }
  items.sort(
    (a, b) =>
      b.containers - a.containers ||
      a.repository.localeCompare(b.repository) ||
      a.digest.localeCompare(b.digest),
  );
  return items.slice(0, MAX_DIGESTS_IN_USE);
}
