/**
 * Pulls and builds are jobs held in the memory of the replica that started
 * them (services/image/image-jobs.ts). Behind a load balancer the watch and
 * the cancel may land on another replica, so job ids name the replica holding
 * the job (`job_<replica key>_<random>`) and a watch or cancel elsewhere is
 * sent there: `POST /internal/jobs/watch` streams the job's messages back as
 * NDJSON (internal-endpoint.ts serves it), `POST /internal/jobs/cancel` stops
 * it. Who may see a job is decided by its holder, from the caller's user id
 * and role, as for a local watch.
 *
 * May import: the image job registry (services), the calls between replicas
 * (gateway/replica-calls), the image routers' progress schemas, `./errors`.
 */
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { PrismaClient } from "./db/client";
import { AppError, isAppError } from "./errors";
import {
  callReplica,
  internalErrorOf,
  liveReplicas,
  OPS_SILENCE_LIMIT_MS,
  readResponseBody,
  replicaKeyOf,
  ZInternalError,
} from "./gateway/replica-calls";
import type { Logger } from "./logger";
import { ZBuildProgress, ZPullProgress } from "./routers/image/image-schemas";
import type {
  ImageJobRegistry,
  TImageJobKind,
  TImageJobProgress,
  TJobCaller,
  TJobMessage,
} from "./services/image/image-jobs";

export const JOB_WATCH_PATH = "/internal/jobs/watch";
export const JOB_CANCEL_PATH = "/internal/jobs/cancel";
/** Either call's body: a job id, its kind, the caller, a sequence number. */
export const MAX_JOB_CALL_BODY_BYTES = 4096;
/** One message of a watch (a build's output line, a pull's layer status). */
const MAX_JOB_LINE_CHARS = 256 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const KEYED_JOB_ID = /^job_([0-9a-f]{12})_([A-Za-z0-9_-]+)$/;

export const ZJobCaller = z.object({ userId: z.string().min(1).max(128), admin: z.boolean() }).strict();

export const ZJobWatchRequest = z
  .object({
    jobId: z.string().min(1).max(64),
    kind: z.enum(["pull", "build"]),
    caller: ZJobCaller,
    after: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .strict();

export const ZJobCancelRequest = z.object({ jobId: z.string().min(1).max(64), caller: ZJobCaller }).strict();

const ZProgressOf = { pull: ZPullProgress, build: ZBuildProgress } as const;

const ZWatchLine = z.union([
  z.object({ message: z.object({ seq: z.int().min(1), value: z.unknown() }).strict() }).strict(),
  z.object({ error: ZInternalError }).strict(),
  z.object({ end: z.literal(true) }).strict(),
  /** Keep-alive. */
  z.object({}).strict(),
]);

/** The image job registry as the API uses it: jobs anywhere among the replicas. */
export interface RoutedImageJobs extends Omit<ImageJobRegistry, "cancel"> {
  cancel(options: { jobId: string; caller: TJobCaller }): Promise<{ cancelled: boolean }>;
  /** The jobs this replica holds, for the internal endpoint (their ids as the API knows them). */
  readonly held: Pick<ImageJobRegistry, "watch" | "cancel">;
}

export function createRoutedImageJobs(options: {
  local: ImageJobRegistry;
  db: PrismaClient;
  replicaId: string;
  secret: () => Promise<Buffer>;
  log: Pick<Logger, "warn">;
}): RoutedImageJobs {
  const { local, db } = options;
  const ownKey = replicaKeyOf(options.replicaId);

  /** The inner id and the holder's key of an id the API handed out (key null: an id of this replica). */
  const parse = (jobId: string): { key: string | null; inner: string } => {
    const match = KEYED_JOB_ID.exec(jobId);
    if (!match?.[1] || !match[2]) return { key: null, inner: jobId };
    return { key: match[1] === ownKey ? null : match[1], inner: `job_${match[2]}` };
  };
  const outer = (inner: string) => `job_${ownKey}_${inner.slice("job_".length)}`;
  const noJob = (jobId: string) =>
    new AppError("NOT_FOUND", `no job ${jobId}: the central replica that ran it is gone`);

  /** The registry's own errors name its inner id; the caller knows the job by the id it was given. */
  const renamed = (error: unknown, inner: string, jobId: string): unknown =>
    isAppError(error) && inner !== jobId
      ? new AppError(error.code, error.message.replaceAll(inner, jobId))
      : error;

  async function* watchHeld<K extends TImageJobKind>(watch: {
    jobId: string;
    kind: K;
    caller: TJobCaller;
    after: number;
    signal?: AbortSignal;
  }): AsyncGenerator<TJobMessage<TImageJobProgress[K]>, void, undefined> {
    const { inner } = parse(watch.jobId);
    try {
      yield* local.watch({ ...watch, jobId: inner });
    } catch (error) {
      throw renamed(error, inner, watch.jobId);
    }
  }

  const cancelHeld = ({ jobId, caller }: { jobId: string; caller: TJobCaller }) => {
    const { inner } = parse(jobId);
    try {
      return local.cancel({ jobId: inner, caller });
    } catch (error) {
      throw renamed(error, inner, jobId);
    }
  };

  async function holderOf(key: string): Promise<{ id: string; internalUrl: string } | null> {
    return (await liveReplicas(db)).find((replica) => replicaKeyOf(replica.id) === key) ?? null;
  }

  async function call(key: string, jobId: string, path: string, body: unknown, signal?: AbortSignal) {
    const holder = await holderOf(key);
    if (!holder) throw noJob(jobId);
    try {
      return await callReplica({
        baseUrl: holder.internalUrl,
        path,
        secret: await options.secret(),
        body: Buffer.from(JSON.stringify(body)),
        contentType: "application/json",
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) return null;
      options.log.warn({ err: error, holder: holder.id }, "reaching the replica holding an image job failed");
      throw noJob(jobId);
    }
  }

  async function failureOf(response: IncomingMessage, jobId: string): Promise<AppError> {
    const error = internalErrorOf(await readResponseBody(response, MAX_ERROR_BODY_BYTES).catch(() => null));
    if (error && error.code !== "not-here") return new AppError(error.code, error.message);
    return noJob(jobId);
  }

  async function* watchRemote<K extends TImageJobKind>(
    key: string,
    watch: { jobId: string; kind: K; caller: TJobCaller; after: number; signal?: AbortSignal },
  ): AsyncGenerator<TJobMessage<TImageJobProgress[K]>, void, undefined> {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    if (watch.signal?.aborted) return;
    watch.signal?.addEventListener("abort", onAbort, { once: true });
    let silence: ReturnType<typeof setTimeout> | null = null;
    try {
      const response = await call(
        key,
        watch.jobId,
        JOB_WATCH_PATH,
        { jobId: watch.jobId, kind: watch.kind, caller: watch.caller, after: watch.after },
        abort.signal,
      );
      if (!response) return;
      if (response.statusCode !== 200) throw await failureOf(response, watch.jobId);
      const listen = () => {
        if (silence) clearTimeout(silence);
        silence = setTimeout(() => response.destroy(), OPS_SILENCE_LIMIT_MS);
      };
      listen();
      response.setEncoding("utf8");
      let pending = "";
      for await (const chunk of response as AsyncIterable<string>) {
        listen();
        pending += chunk;
        if (pending.length > MAX_JOB_LINE_CHARS) throw noJob(watch.jobId);
        let newline = pending.indexOf("\n");
        while (newline !== -1) {
          const text = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          newline = pending.indexOf("\n");
          if (text.trim() === "") continue;
          const line = ZWatchLine.parse(JSON.parse(text));
          if ("message" in line) {
            const value = ZProgressOf[watch.kind].parse(line.message.value) as TImageJobProgress[K];
            yield { seq: line.message.seq, value };
          } else if ("error" in line) {
            throw new AppError(
              line.error.code === "not-here" ? "NOT_FOUND" : line.error.code,
              line.error.message,
            );
          } else if ("end" in line) {
            return;
          }
        }
      }
      if (watch.signal?.aborted) return;
      // Ended without its last line: the holder went away.
      throw noJob(watch.jobId);
    } catch (error) {
      if (watch.signal?.aborted) return;
      if (isAppError(error)) throw error;
      options.log.warn({ err: error, jobId: watch.jobId }, "watching an image job on another replica failed");
      throw noJob(watch.jobId);
    } finally {
      if (silence) clearTimeout(silence);
      watch.signal?.removeEventListener("abort", onAbort);
      abort.abort();
    }
  }

  return {
    async start(startOptions) {
      const started = await local.start(startOptions);
      return { ...started, jobId: outer(started.jobId) };
    },
    watch(watch) {
      const { key } = parse(watch.jobId);
      return key === null ? watchHeld(watch) : watchRemote(key, watch);
    },
    async cancel({ jobId, caller }) {
      const { key } = parse(jobId);
      if (key === null) return cancelHeld({ jobId, caller });
      const response = await call(key, jobId, JOB_CANCEL_PATH, { jobId, caller });
      if (!response) throw noJob(jobId);
      if (response.statusCode !== 200) throw await failureOf(response, jobId);
      const body = await readResponseBody(response, MAX_ERROR_BODY_BYTES);
      const parsed = z
        .object({ cancelled: z.boolean() })
        .safeParse(JSON.parse(body?.toString("utf8") ?? "null"));
      if (!parsed.success) throw noJob(jobId);
      return parsed.data;
    },
    get size() {
      return local.size;
    },
    stop: () => local.stop(),
    held: { watch: watchHeld, cancel: cancelHeld },
  };
}
