// Pulls one image onto chosen hosts (or every connected one) in parallel and
// streams what each host's engine reports. Every host ends with exactly one
// final entry (`done: true`, pulled or failed with the agent's words), and
// the stream ends once every host has one. Progress in between may be thinned
// for a slow reader; final entries never are. A host that pulled gets its
// image rows refreshed; every outcome is recorded as an event.
//
// `startPull` checks the hosts before anything is sent, so a refusal reaches
// the caller before the pull exists. When `signal` aborts, the pulls still
// running are cancelled and the stream goes on until each of them has ended
// as failed; a reader that stops reading (`return()`) cancels them too.
import type { TRegistryAuth } from "@fleet/shared/protocol/operations";
import type { PrismaClient } from "../../db/client";
import { AppError, isAppError } from "../../errors";
import type { EventBus } from "../../events/event-bus";
import type { Logger } from "../../logger";
import type { AgentOperations } from "../agent/agent-operations";
import { recordImageEvent } from "./image-events";
import { createProgressQueue } from "./progress-queue";
import { refreshHostImages } from "./refresh-images";

export const IMAGE_PULL_TIMEOUT_MS = 30 * 60_000;
/** Progress entries held for a slow reader, across all hosts of one pull. */
export const PULL_PROGRESS_BUFFER = 500;

export interface TPullProgress {
  hostId: string;
  hostName: string;
  /** The engine's words (`Downloading`, `Pull complete`, …), or `requested`, `pulled`, `failed`. */
  status: string;
  /** The layer the status is about. */
  layer?: string;
  current?: number;
  total?: number;
  /** True on the host's last entry. */
  done: boolean;
  /** On `pulled`: the digest the engine reported, if any. */
  digest?: string | null;
  /** On `failed`: why. */
  error?: string;
}

export interface TPullOptions {
  db: PrismaClient;
  gateway: AgentOperations;
  bus: Pick<EventBus, "publish">;
  log: Pick<Logger, "warn">;
  now: () => Date;
  image: string;
  target: { hostIds: string[] } | { all: true };
  auth?: TRegistryAuth;
  actorEmail: string;
  /** Cancels the pulls still running. */
  signal?: AbortSignal;
}

export interface TStartedPull {
  /** The hosts pulled onto, by name. */
  hosts: { id: string; name: string }[];
  /** Nothing is sent to a host before the first read. */
  progress: AsyncGenerator<TPullProgress, void, undefined>;
}

export async function startPull(options: TPullOptions): Promise<TStartedPull> {
  const { db, gateway } = options;
  const hostIds = "hostIds" in options.target ? [...new Set(options.target.hostIds)] : null;
  const hosts = await db.host.findMany({
    where: { removedAt: null, ...(hostIds ? { id: { in: hostIds } } : { status: "online" }) },
    orderBy: { name: "asc" },
    select: { id: true, name: true },
  });
  if (hostIds) {
    const missing = hostIds.filter((id) => !hosts.some((host) => host.id === id));
    if (missing.length > 0) {
      throw new AppError("NOT_FOUND", `no host with id ${missing.join(", ")}`);
    }
  }
  const connected = hostIds ? null : await Promise.all(hosts.map((host) => gateway.isConnected(host.id)));
  const targets = connected ? hosts.filter((_, index) => connected[index]) : hosts;
  if (targets.length === 0) throw new AppError("PRECONDITION_FAILED", "no host is online to pull onto");
  return { hosts: targets, progress: pullOnto(options, targets) };
}

/** `startPull`'s stream alone, for callers that need no host list first. */
export async function* pullImage(options: TPullOptions): AsyncGenerator<TPullProgress, void, undefined> {
  yield* (await startPull(options)).progress;
}

async function* pullOnto(
  options: TPullOptions,
  targets: { id: string; name: string }[],
): AsyncGenerator<TPullProgress, void, undefined> {
  const { db, gateway, bus, log, image, signal } = options;
  const queue = createProgressQueue<TPullProgress>(PULL_PROGRESS_BUFFER);
  const cancel = new AbortController();
  const onAbort = () => cancel.abort();
  if (signal?.aborted) cancel.abort();
  else signal?.addEventListener("abort", onAbort, { once: true });

  const record = (host: { id: string; name: string }, outcome: { digest?: string | null; error?: string }) =>
    recordImageEvent({
      db,
      bus,
      kind: outcome.error === undefined ? "image.pulled" : "image.pull-failed",
      hostId: host.id,
      message:
        outcome.error === undefined
          ? `${options.actorEmail} pulled ${image} onto host ${host.name}`
          : `pulling ${image} onto host ${host.name} failed: ${outcome.error}`,
      data: {
        image,
        by: options.actorEmail,
        ...(outcome.error === undefined ? { digest: outcome.digest ?? null } : { error: outcome.error }),
      },
      now: options.now(),
    }).catch((error: unknown) => log.warn({ err: error, hostId: host.id }, "recording a pull failed"));

  const pullOne = async (host: { id: string; name: string }) => {
    const base = { hostId: host.id, hostName: host.name };
    queue.push({ ...base, status: "requested", done: false }, { droppable: false });
    try {
      if (!(await gateway.isConnected(host.id)))
        throw new AppError("PRECONDITION_FAILED", `host ${host.name} is offline`);
      const { digest } = await gateway.request(
        host.id,
        { kind: "image.pull", image, ...(options.auth ? { auth: options.auth } : {}) },
        {
          timeoutMs: IMAGE_PULL_TIMEOUT_MS,
          signal: cancel.signal,
          onProgress: (data) => {
            if (data.kind !== "progress") return;
            queue.push({
              ...base,
              status: data.status,
              ...(data.id !== undefined ? { layer: data.id } : {}),
              ...(data.current !== undefined ? { current: data.current } : {}),
              ...(data.total !== undefined ? { total: data.total } : {}),
              done: false,
            });
          },
        },
      );
      await refreshHostImages({ db, gateway, hostId: host.id, now: options.now }).catch((error: unknown) =>
        log.warn({ err: error, hostId: host.id }, "refreshing a host's images after a pull failed"),
      );
      await record(host, { digest });
      queue.push({ ...base, status: "pulled", done: true, digest }, { droppable: false });
    } catch (error) {
      // The agent's words for a cancelled pull vary; the person asked for it and knows why.
      const message = cancel.signal.aborted
        ? "cancelled"
        : isAppError(error)
          ? error.message
          : "internal error: the central's log has the details";
      if (!isAppError(error)) log.warn({ err: error, hostId: host.id }, "pull failed");
      await record(host, { error: message });
      queue.push({ ...base, status: "failed", done: true, error: message }, { droppable: false });
    }
  };

  const all = Promise.all(targets.map(pullOne)).then(() => queue.end());
  try {
    for (;;) {
      // Not ended by `signal`: the cancelled pulls still report how they ended.
      const next = await queue.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    cancel.abort();
    void all;
  }
}
