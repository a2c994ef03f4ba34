// Builds an image on one host from a context uploaded beforehand
// (`POST /api/uploads`): the tar goes to the agent as upload chunks, then the
// `image.build` operation runs and its output streams back line by line. The
// stream ends with one `built` (the image id) or `failed` entry. The upload is
// used up either way.
//
// `startBuild` checks the host and takes the upload before anything is sent,
// so a refusal reaches the caller before the build exists. When `signal`
// aborts the build is cancelled and the stream still ends with `failed`; a
// reader that stops reading (`return()`) cancels it too.
import type { PrismaClient } from "../../db/client";
import { AppError, isAppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { connectedHost } from "../host/connected-host";
import { recordImageEvent } from "./image-events";
import { createProgressQueue } from "./progress-queue";
import { refreshHostImages } from "./refresh-images";

export const IMAGE_BUILD_TIMEOUT_MS = 60 * 60_000;
/** Output lines held for a slow reader; older ones are dropped past it (and counted). */
export const BUILD_OUTPUT_BUFFER = 2000;

export type TBuildProgress =
  | { type: "output"; line: string }
  | { type: "built"; imageId: string }
  | { type: "failed"; error: string };

/**
 * Where build contexts wait between `POST /api/uploads` and the build (the
 * real one is uploads.ts's store, which fetches an upload held by another
 * central replica from it).
 */
export interface BuildContextSource {
  /** The upload's bytes, removed from the store; null if unknown, expired or someone else's. */
  take(uploadId: string, userId: string): Promise<Buffer | null>;
}

export interface TBuildOptions {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  log: Pick<Logger, "warn">;
  now: () => Date;
  uploads: BuildContextSource;
  hostId: string;
  tag: string;
  dockerfile?: string;
  uploadId: string;
  userId: string;
  actorEmail: string;
  /** Cancels the build. */
  signal?: AbortSignal;
}

export interface TStartedBuild {
  host: { id: string; name: string };
  /** Nothing is sent to the host before the first read. */
  progress: AsyncGenerator<TBuildProgress, void, undefined>;
}

export async function startBuild(options: TBuildOptions): Promise<TStartedBuild> {
  const host = await connectedHost({ db: options.db, gateway: options.gateway, hostId: options.hostId });
  const context = await options.uploads.take(options.uploadId, options.userId);
  if (!context) {
    throw new AppError(
      "NOT_FOUND",
      `no upload ${options.uploadId}: uploads are yours only, can be used once and expire after 10 minutes`,
    );
  }
  return { host: { id: host.id, name: host.name }, progress: buildOn(options, host, context) };
}

/** `startBuild`'s stream alone. */
export async function* buildImage(options: TBuildOptions): AsyncGenerator<TBuildProgress, void, undefined> {
  yield* (await startBuild(options)).progress;
}

async function* buildOn(
  options: TBuildOptions,
  host: { name: string },
  context: Buffer,
): AsyncGenerator<TBuildProgress, void, undefined> {
  const { db, gateway, log, hostId, tag, signal } = options;
  const queue = createProgressQueue<TBuildProgress>(BUILD_OUTPUT_BUFFER);
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  if (signal?.aborted) cancel.abort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  const dockerfile = options.dockerfile ?? "Dockerfile";

  const run = async () => {
    queue.push({
      type: "output",
      line: `sending the build context (${context.byteLength} bytes) to host ${host.name}`,
    });
    try {
      await gateway.upload(hostId, options.uploadId, context);
      const { imageId } = await gateway.request(
        hostId,
        { kind: "image.build", tag, dockerfile, uploadId: options.uploadId },
        {
          timeoutMs: IMAGE_BUILD_TIMEOUT_MS,
          signal: cancel.signal,
          onProgress: (data) => {
            if (data.kind === "output") queue.push({ type: "output", line: data.line });
          },
        },
      );
      await refreshHostImages({ db, gateway, hostId, now: options.now }).catch((error: unknown) =>
        log.warn({ err: error, hostId }, "refreshing a host's images after a build failed"),
      );
      await recordImageEvent({
        db,
        bus: options.bus,
        kind: "image.built",
        hostId,
        message: `${options.actorEmail} built ${tag} on host ${host.name}`,
        data: { tag, dockerfile, imageId, by: options.actorEmail, contextBytes: context.byteLength },
        now: options.now(),
      }).catch((error: unknown) => log.warn({ err: error, hostId }, "recording a build failed"));
      queue.push({ type: "built", imageId }, { droppable: false });
    } catch (error) {
      const message = cancel.signal.aborted
        ? "cancelled"
        : isAppError(error)
          ? error.message
          : "internal error: the central's log has the details";
      if (!isAppError(error)) log.warn({ err: error, hostId }, "build failed");
      await recordImageEvent({
        db,
        bus: options.bus,
        kind: "image.build-failed",
        hostId,
        message: `building ${tag} on host ${host.name} failed: ${message}`,
        data: { tag, dockerfile, by: options.actorEmail, error: message },
        now: options.now(),
      }).catch((recordError: unknown) => log.warn({ err: recordError, hostId }, "recording a build failed"));
      queue.push({ type: "failed", error: message }, { droppable: false });
    }
    queue.end();
  };

  const running = run();
  try {
    for (;;) {
      // Not ended by `signal`: a cancelled build still ends with `failed`.
      const next = await queue.next();
      if (next.done) return;
      if (next.dropped > 0) {
        yield {
          type: "output",
          line: `[fleet] ${next.dropped} lines of build output dropped: the reader is slow`,
        };
      }
      yield next.value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    cancel.abort();
    void running;
  }
}
