// Pulls and builds as jobs of the central rather than of a connection: a
// mutation starts one and gets its id at once, subscriptions watch it
// (replaying from its first message, or from where a dropped connection left
// off), and it runs to its end whether anyone watches or not, as a pull the
// Docker daemon has begun does. Watching has no effects; cancelling is a
// separate call.
//
// Jobs live in this process's memory only: a restarted central forgets them
// (the pulls and builds they drove are then cancelled by the agents'
// connections closing). With several central replicas, a watch or cancel that
// lands on another replica is sent to the one holding the job
// (routed-image-jobs.ts in the wiring).
//
// Bounded four ways: at most `maxJobs` held at once (finished ones make room
// first, oldest first; when every one is running a new job is refused), at
// most `maxRunningPerOwner` running for one person, at
// most `maxMessagesPerJob` progress messages kept per job (past that the
// oldest droppable ones go; a job's final messages are always kept), and a
// finished job is forgotten `keepFinishedMs` after it ended.
//
// A job can be watched and cancelled by the person who started it and by
// administrators; to anyone else it does not exist.
import { randomBytes } from "node:crypto";
import type { Clock, TimerHandle } from "@fleet/shared/clock";
import { roleAtLeast, type TUserRole } from "@fleet/shared/domain/roles";
import { AppError, isAppError } from "../../errors";
import type { Logger } from "../../logger";
import type { TBuildProgress } from "./build-image";
import type { TPullProgress } from "./pull-image";

/** What each kind of job reports. */
export interface TImageJobProgress {
  pull: TPullProgress;
  build: TBuildProgress;
}
export type TImageJobKind = keyof TImageJobProgress;

export interface ImageJobLimits {
  /** Jobs held at once, running or finished. */
  maxJobs: number;
  /** Jobs one person may have running at once, so nobody takes every slot. */
  maxRunningPerOwner: number;
  /** Progress messages kept per job for watchers that come (back) later. */
  maxMessagesPerJob: number;
  /** How long a finished job can still be watched. */
  keepFinishedMs: number;
}

export const IMAGE_JOB_LIMITS: ImageJobLimits = {
  maxJobs: 64,
  maxRunningPerOwner: 8,
  maxMessagesPerJob: 2000,
  keepFinishedMs: 5 * 60_000,
};

/** Who asks about a job. */
export interface TJobCaller {
  userId: string;
  /** Administrators may watch and cancel anyone's jobs. */
  admin: boolean;
}

export function jobCallerOf(user: { id: string; role: TUserRole }): TJobCaller {
  return { userId: user.id, admin: roleAtLeast(user.role, "admin") };
}

/** One progress message of a job; `seq` rises by one per message from 1. */
export interface TJobMessage<T> {
  seq: number;
  value: T;
}

interface Job {
  id: string;
  kind: TImageJobKind;
  ownerId: string;
  /** Rising `seq`; some early ones may be gone (see `append`). */
  messages: { seq: number; value: unknown; kept: boolean }[];
  lastSeq: number;
  running: boolean;
  endedAt: number | null;
  failure: { error: unknown } | null;
  cancel: AbortController;
  wakers: Set<() => void>;
  forgetTimer: TimerHandle | null;
}

// The messages a watcher cannot do without: each host's end of a pull, a
// build's result. Everything before them is progress a late watcher may miss.
const KEPT: { [K in TImageJobKind]: (value: TImageJobProgress[K]) => boolean } = {
  pull: (progress) => progress.done,
  build: (progress) => progress.type !== "output",
};

// A pull's rows show each host's latest words, so a gap needs no mention; a
// build's output is read line by line, so a watcher is told what it missed.
const GAP_NOTE: { [K in TImageJobKind]: ((missed: number, kept: number) => TImageJobProgress[K]) | null } = {
  pull: null,
  build: (missed, kept) => ({
    type: "output",
    line: `[fleet] ${missed} earlier line${missed === 1 ? "" : "s"} of build output are not shown: the central keeps the last ${kept} of a build`,
  }),
};

export interface ImageJobRegistry {
  /**
   * Starts a job. `begin` checks what it must and returns the job's progress
   * stream (and anything else the caller should learn at once); when `begin`
   * throws there is no job. `signal` is the job's cancellation.
   */
  start<K extends TImageJobKind, S extends { progress: AsyncIterable<TImageJobProgress[K]> }>(options: {
    kind: K;
    ownerId: string;
    begin: (signal: AbortSignal) => Promise<S>;
  }): Promise<{ jobId: string } & Omit<S, "progress">>;
  /**
   * A job's messages after `after` (0: from its first), as they come, ending
   * when the job has ended and every message was given or when `signal`
   * aborts. Throws NOT_FOUND for a job the caller may not see, at the first read.
   */
  watch<K extends TImageJobKind>(options: {
    jobId: string;
    kind: K;
    caller: TJobCaller;
    after: number;
    signal?: AbortSignal;
  }): AsyncGenerator<TJobMessage<TImageJobProgress[K]>, void, undefined>;
  /** Asks a running job to stop; false when it had already ended. */
  cancel(options: { jobId: string; caller: TJobCaller }): { cancelled: boolean };
  /** Jobs held now, running or finished. */
  readonly size: number;
  /** Cancels every running job and waits for them to end; refuses new ones from then on. */
  stop(): Promise<void>;
}

export function createImageJobRegistry(options: {
  clock: Clock;
  log: Pick<Logger, "warn">;
  limits?: Partial<ImageJobLimits>;
}): ImageJobRegistry {
  const { clock, log } = options;
  const limits: ImageJobLimits = { ...IMAGE_JOB_LIMITS, ...options.limits };
  const jobs = new Map<string, Job>();
  const drivers = new Set<Promise<void>>();
  let stopped = false;

  const notify = (job: Job) => {
    for (const wake of [...job.wakers]) wake();
  };

  const forget = (job: Job) => {
    if (job.forgetTimer !== null) clock.clearTimeout(job.forgetTimer);
    job.forgetTimer = null;
    jobs.delete(job.id);
  };

  const makeRoom = () => {
    if (jobs.size < limits.maxJobs) return;
    let oldest: Job | null = null;
    for (const job of jobs.values()) {
      if (!job.running && (oldest === null || (job.endedAt ?? 0) < (oldest.endedAt ?? 0))) oldest = job;
    }
    if (!oldest) {
      throw new AppError(
        "TOO_MANY_REQUESTS",
        `the central is already running ${jobs.size} pulls and builds, its most at once: try again when one has ended`,
      );
    }
    forget(oldest);
  };

  const append = (job: Job, value: unknown) => {
    job.lastSeq++;
    job.messages.push({ seq: job.lastSeq, value, kept: KEPT[job.kind](value as never) });
    if (job.messages.length > limits.maxMessagesPerJob) {
      const index = job.messages.findIndex((message) => !message.kept);
      if (index !== -1) job.messages.splice(index, 1);
    }
    notify(job);
  };

  const drive = async (job: Job, progress: AsyncIterable<unknown>) => {
    try {
      for await (const value of progress) append(job, value);
    } catch (error) {
      job.failure = { error };
      if (!isAppError(error)) log.warn({ err: error, jobId: job.id, kind: job.kind }, "an image job failed");
    } finally {
      job.running = false;
      job.endedAt = clock.now();
      notify(job);
      if (!stopped) job.forgetTimer = clock.setTimeout(() => forget(job), limits.keepFinishedMs);
    }
  };

  const visibleJob = (jobId: string, caller: TJobCaller): Job => {
    const job = jobs.get(jobId);
    if (!job || (job.ownerId !== caller.userId && !caller.admin)) {
      throw new AppError(
        "NOT_FOUND",
        `no job ${jobId}: a pull or build can be watched by who started it (and administrators) until ${Math.round(limits.keepFinishedMs / 60_000)} minutes after it ended`,
      );
    }
    return job;
  };

  /** Index of the first message with a seq above `after` (messages.length if none). */
  const firstAfter = (messages: Job["messages"], after: number): number => {
    let low = 0;
    let high = messages.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((messages[middle]?.seq ?? Number.POSITIVE_INFINITY) <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  };

  const changeOf = (job: Job, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        job.wakers.delete(wake);
        signal?.removeEventListener("abort", wake);
        resolve();
      };
      job.wakers.add(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });

  return {
    get size() {
      return jobs.size;
    },

    async start({ kind, ownerId, begin }) {
      if (stopped) throw new AppError("PRECONDITION_FAILED", "the central is shutting down");
      let running = 0;
      for (const job of jobs.values()) if (job.running && job.ownerId === ownerId) running++;
      if (running >= limits.maxRunningPerOwner) {
        throw new AppError(
          "TOO_MANY_REQUESTS",
          `you already have ${running} pulls and builds running, the most one person may: wait for one to end, or cancel one`,
        );
      }
      makeRoom();
      const job: Job = {
        id: `job_${randomBytes(18).toString("base64url")}`,
        kind,
        ownerId,
        messages: [],
        lastSeq: 0,
        running: true,
        endedAt: null,
        failure: null,
        cancel: new AbortController(),
        wakers: new Set(),
        forgetTimer: null,
      };
      // Held while `begin` runs, so concurrent starts cannot overshoot maxJobs.
      jobs.set(job.id, job);
      const { progress, ...rest } = await begin(job.cancel.signal).catch((error: unknown) => {
        jobs.delete(job.id);
        throw error;
      });
      const driver = drive(job, progress).finally(() => drivers.delete(driver));
      drivers.add(driver);
      return { jobId: job.id, ...rest };
    },

    async *watch({ jobId, kind, caller, after, signal }) {
      const job = visibleJob(jobId, caller);
      if (job.kind !== kind)
        throw new AppError("BAD_REQUEST", `job ${jobId} is a ${job.kind}, not a ${kind}`);
      if (after > job.lastSeq) {
        throw new AppError(
          "BAD_REQUEST",
          `lastEventId ${after} is past job ${jobId}'s last message (${job.lastSeq}): watch it from the start`,
        );
      }
      const gapNote = GAP_NOTE[kind];
      let cursor = after;
      for (;;) {
        if (signal?.aborted) return;
        const next = job.messages[firstAfter(job.messages, cursor)];
        if (next) {
          if (gapNote && next.seq > cursor + 1) {
            // The note takes the seq of the last message it stands for, so resuming after it skips nothing.
            yield { seq: next.seq - 1, value: gapNote(next.seq - cursor - 1, limits.maxMessagesPerJob) };
          }
          cursor = next.seq;
          yield { seq: next.seq, value: next.value as TImageJobProgress[typeof kind] };
          continue;
        }
        if (!job.running) {
          if (job.failure) {
            const { error } = job.failure;
            throw isAppError(error)
              ? error
              : new AppError(
                  "INTERNAL_SERVER_ERROR",
                  "the job ended unexpectedly: the central's log has the details",
                );
          }
          return;
        }
        await changeOf(job, signal);
      }
    },

    cancel({ jobId, caller }) {
      const job = visibleJob(jobId, caller);
      if (!job.running) return { cancelled: false };
      job.cancel.abort();
      return { cancelled: true };
    },

    async stop() {
      stopped = true;
      for (const job of jobs.values()) {
        if (job.running) job.cancel.abort();
      }
      await Promise.allSettled([...drivers]);
      for (const job of jobs.values()) {
        if (job.forgetTimer !== null) clock.clearTimeout(job.forgetTimer);
        job.forgetTimer = null;
      }
    },
  };
}
