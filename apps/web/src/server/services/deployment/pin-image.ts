// A deployment's tag becomes a digest once, when it is created: replicas placed
// later (scale-up, a lost host's replacements) then run the same bits even if
// the tag has moved in the registry since. The digest is whatever one host's
// engine reports after pulling the tag, through the ordinary image pull (so
// the pull is recorded and the host's image list refreshed like any other).
import {
  DEFAULT_REGISTRY,
  familiarImageRef,
  parseImageRef,
  type TParsedImageRef,
} from "@fleet/shared/image-ref";
import { matchesLabels, ZLabels } from "@fleet/shared/label-selector";
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { pullImage } from "../image/pull-image";
import { parseConstraints } from "../placement/place-containers";

export interface TPinnedImage {
  /** What replicas run: `repository:tag@digest`, or the reference as given when not pinned. */
  image: string;
  /** Null when no registry digest is known (an image only built locally, or no host could pull it). */
  digest: string | null;
  /** Why the digest is null: the pull's error, or that no host could try it; null when pinned or given. */
  problem: string | null;
}

/**
 * `name:tag@digest` keeps the tag for people to read; Docker and Podman both
 * create and pull by the digest and ignore the tag in that form.
 */
export function pinnedReference(image: string, digest: string): string {
  const ref = parseImageRef(image);
  return familiarImageRef({ ...ref, tag: ref.tag ?? "latest", digest });
}

export async function pinImage(options: {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  log: Pick<Logger, "warn">;
  now: () => Date;
  image: string;
  constraints: string;
  actorEmail: string;
}): Promise<TPinnedImage> {
  const { db, gateway, log, image } = options;
  const written = parseImageRef(image);
  if (written.digest !== null) return { image, digest: written.digest, problem: null };

  // Any host the deployment may run on will do: a registry tag names one manifest for all of them.
  const requirements = parseConstraints(options.constraints);
  const candidates = await db.host.findMany({
    where: { removedAt: null, status: "online", draining: false },
    orderBy: { name: "asc" },
    select: { id: true, labels: true },
  });
  let host: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) {
    const labels = ZLabels.safeParse(candidate.labels);
    if (
      labels.success &&
      matchesLabels(requirements, labels.data) &&
      (await gateway.isConnected(candidate.id))
    ) {
      host = candidate;
      break;
    }
  }
  // A tag that was built on a host and never pushed cannot be pinned, and
  // asking a registry for it only produces a failed pull (from Docker Hub, for
  // a name without a registry): it runs as it is, and the log says so plainly.
  const imageRows = await db.hostImage.findMany({
    where: { hostId: { in: candidates.map((candidate) => candidate.id) } },
    select: { repoTags: true, repoDigests: true, host: { select: { id: true, name: true } } },
    orderBy: { host: { name: "asc" } },
  });
  const local = localBuildHolder(imageRows, written);
  if (local) {
    const problem = `not pinned: ${image} is local to host ${local.name} (built there, in no registry)`;
    await recordEvent({
      db,
      bus: options.bus,
      kind: "image.not-pinned",
      severity: "info",
      hostId: local.id,
      message: problem,
      data: { image, by: options.actorEmail },
      ts: options.now(),
    });
    return { image, digest: null, problem };
  }
  // Placement will say why nothing fits; an unpinned deployment is still a deployment.
  if (!host) {
    return {
      image,
      digest: null,
      problem: "no connected online host the deployment may run on could pull it",
    };
  }

  let digest: string | null = null;
  let problem: string | null = null;
  for await (const progress of pullImage({
    ...options,
    target: { hostIds: [host.id] },
  })) {
    if (!progress.done) continue;
    if (progress.status === "pulled") {
      digest = progress.digest ?? null;
      if (digest === null) problem = "the registry reported no digest for it";
    } else {
      problem = progress.error ?? `the pull ended with ${progress.status}`;
      log.warn({ image, hostId: host.id, error: progress.error }, "could not pin a deployment's image");
    }
  }
  return digest === null
    ? { image, digest: null, problem: problem ?? "the pull did not finish" }
    : { image: pinnedReference(image, digest), digest, problem: null };
}

export interface THostImageRow {
  repoTags: string[];
  repoDigests: string[];
  host: { id: string; name: string };
}

function parsedOrNull(name: string): TParsedImageRef | null {
  try {
    return parseImageRef(name);
  } catch {
    return null; // e.g. `<none>:<none>`
  }
}

// Podman lists a local build of `app:1` as `localhost/app:1` (and gives it a
// digest under that name, which is no registry either).
function sameRepository(listed: TParsedImageRef, wanted: TParsedImageRef): boolean {
  if (listed.registry === wanted.registry && listed.repository === wanted.repository) return true;
  return (
    listed.registry === "localhost" &&
    wanted.registry === DEFAULT_REGISTRY &&
    (wanted.repository === listed.repository || wanted.repository === `library/${listed.repository}`)
  );
}

/**
 * The host whose engine holds `wanted`'s tag built locally: no host holds
 * that tag with a digest from a registry. Null when some host pulled it from
 * one (a pull can pin it) or none holds it.
 */
export function localBuildHolder(
  rows: readonly THostImageRow[],
  wanted: TParsedImageRef,
): { id: string; name: string } | null {
  const tag = wanted.tag ?? "latest";
  const holders = rows.filter((row) =>
    row.repoTags.some((name) => {
      const listed = parsedOrNull(name);
      return listed !== null && listed.tag === tag && sameRepository(listed, wanted);
    }),
  );
  const fromRegistry = holders.some((row) =>
    row.repoDigests.some((name) => {
      const listed = parsedOrNull(name);
      return listed !== null && listed.registry !== "localhost" && sameRepository(listed, wanted);
    }),
  );
  return fromRegistry ? null : (holders[0]?.host ?? null);
}
