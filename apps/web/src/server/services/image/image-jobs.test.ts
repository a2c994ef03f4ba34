import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { describe, expect, test } from "vitest";
import type { TBuildProgress } from "./build-image";
import { createImageJobRegistry, type ImageJobLimits, type TJobCaller, type TJobMessage } from "./image-jobs";
import type { TPullProgress } from "./pull-image";

const OWNER: TJobCaller = { userId: "u-owner", admin: false };

/** A progress stream the test feeds by hand; `signal` is what the job was given to cancel it. */
function manualStream<T>() {
  const queued: T[] = [];
  let ended = false;
  let wake: (() => void) | null = null;
  const state: { signal: AbortSignal | null } = { signal: null };
  async function* stream(): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const next = queued.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
  const poke = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  return {
    state,
    begin: async (signal: AbortSignal) => {
      state.signal = signal;
      signal.addEventListener("abort", () => {
        ended = true;
        poke();
      });
      return { progress: stream() };
    },
    push(...items: T[]) {
      queued.push(...items);
      poke();
    },
    end() {
      ended = true;
      poke();
    },
  };
}

const line = (n: number): TBuildProgress => ({ type: "output", line: `line ${n}` });
const hostProgress = (hostId: string, status: string, done = false): TPullProgress => ({
  hostId,
  hostName: hostId,
  status,
  done,
});

function setup(limits: Partial<ImageJobLimits> = {}) {
  const clock = new ManualClock();
  const jobs = createImageJobRegistry({ clock, log: { warn() {} }, limits });
  return { clock, jobs };
}

async function collect<T>(iterable: AsyncIterable<TJobMessage<T>>): Promise<TJobMessage<T>[]> {
  const out: TJobMessage<T>[] = [];
  for await (const message of iterable) out.push(message);
  return out;
}

describe("image job registry", () => {
  test("keeps at most maxMessagesPerJob messages: the oldest output goes, the result stays, and a late watcher is told", async () => {
    const { jobs } = setup({ maxMessagesPerJob: 3 });
    const build = manualStream<TBuildProgress>();
    const { jobId } = await jobs.start({ kind: "build", ownerId: OWNER.userId, begin: build.begin });
    build.push(line(1), line(2), line(3), line(4), { type: "built", imageId: "sha256:abc" });
    build.end();
    await flushAsync();

    const all = await collect(jobs.watch({ jobId, kind: "build", caller: OWNER, after: 0 }));
    expect(all).toEqual([
      {
        seq: 2,
        value: {
          type: "output",
          line: "[fleet] 2 earlier lines of build output are not shown: the central keeps the last 3 of a build",
        },
      },
      { seq: 3, value: line(3) },
      { seq: 4, value: line(4) },
      { seq: 5, value: { type: "built", imageId: "sha256:abc" } },
    ]);
    // Resuming after the note, or after a message still held, repeats nothing and notes nothing.
    expect(
      (await collect(jobs.watch({ jobId, kind: "build", caller: OWNER, after: 2 }))).map((m) => m.seq),
    ).toEqual([3, 4, 5]);
    expect(
      (await collect(jobs.watch({ jobId, kind: "build", caller: OWNER, after: 4 }))).map((m) => m.seq),
    ).toEqual([5]);
  });

  test("a pull keeps every host's final entry past the bound, and its gaps go unmentioned", async () => {
    const { jobs } = setup({ maxMessagesPerJob: 2 });
    const pull = manualStream<TPullProgress>();
    const { jobId } = await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: pull.begin });
    pull.push(
      hostProgress("a", "requested"),
      hostProgress("b", "requested"),
      hostProgress("a", "pulled", true),
      hostProgress("b", "Downloading"),
      hostProgress("b", "failed", true),
    );
    pull.end();
    await flushAsync();
    const all = await collect(jobs.watch({ jobId, kind: "pull", caller: OWNER, after: 0 }));
    expect(all.map((m) => [m.seq, m.value.hostId, m.value.status])).toEqual([
      [3, "a", "pulled"],
      [5, "b", "failed"],
    ]);
  });

  test("holds at most maxJobs: finished jobs make room, oldest first; when all run, a new one is refused", async () => {
    const { jobs, clock } = setup({ maxJobs: 2 });
    const first = manualStream<TPullProgress>();
    const second = manualStream<TPullProgress>();
    const a = await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: first.begin });
    const b = await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: second.begin });
    const third = manualStream<TPullProgress>();
    await expect(
      jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: third.begin }),
    ).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    expect(third.state.signal).toBeNull();

    second.end();
    await clock.advance(1000);
    first.end();
    await flushAsync();
    const c = await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: third.begin });
    expect(jobs.size).toBe(2);
    // b ended first, so b made room; a is still there.
    await expect(
      collect(jobs.watch({ jobId: b.jobId, kind: "pull", caller: OWNER, after: 0 })),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(
      collect(jobs.watch({ jobId: a.jobId, kind: "pull", caller: OWNER, after: 0 })),
    ).resolves.toEqual([]);
    expect(c.jobId).not.toBe(a.jobId);
  });

  test("one person may have at most maxRunningPerOwner jobs running; others still start theirs", async () => {
    const { jobs } = setup({ maxRunningPerOwner: 2 });
    const streams = Array.from({ length: 4 }, () => manualStream<TPullProgress>());
    await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: streams[0]!.begin });
    await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: streams[1]!.begin });
    await expect(
      jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: streams[2]!.begin }),
    ).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
      message: expect.stringMatching(/the most one person may/),
    });
    await jobs.start({ kind: "pull", ownerId: "u-someone-else", begin: streams[3]!.begin });
    streams[0]!.end();
    await flushAsync();
    await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: streams[2]!.begin });
    expect(jobs.size).toBe(4);
  });

  test("a finished job is forgotten keepFinishedMs after it ended; a running one is not", async () => {
    const { jobs, clock } = setup({ keepFinishedMs: 60_000 });
    const running = manualStream<TPullProgress>();
    const ending = manualStream<TPullProgress>();
    await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: running.begin });
    const e = await jobs.start({ kind: "pull", ownerId: OWNER.userId, begin: ending.begin });
    ending.end();
    await clock.advance(59_999);
    expect(jobs.size).toBe(2);
    await clock.advance(1);
    expect(jobs.size).toBe(1);
    await expect(
      collect(jobs.watch({ jobId: e.jobId, kind: "pull", caller: OWNER, after: 0 })),
    ).rejects.toThrow(`no job ${e.jobId}`);
    await clock.advance(10 * 60_000);
    expect(jobs.size).toBe(1);
    running.end();
    await clock.advance(60_000);
    expect(jobs.size).toBe(0);
  });

  test("a refused start leaves no job; watching has no effects; cancel and stop reach the work", async () => {
    const { jobs } = setup({ maxJobs: 1 });
    await expect(
      jobs.start({
        kind: "build",
        ownerId: OWNER.userId,
        begin: async () => {
          throw new Error("no such upload");
        },
      }),
    ).rejects.toThrow("no such upload");
    expect(jobs.size).toBe(0);

    const build = manualStream<TBuildProgress>();
    const { jobId } = await jobs.start({ kind: "build", ownerId: OWNER.userId, begin: build.begin });
    build.push(line(1));
    const gone = new AbortController();
    const watcher = jobs.watch({ jobId, kind: "build", caller: OWNER, after: 0, signal: gone.signal });
    expect((await watcher.next()).value).toEqual({ seq: 1, value: line(1) });
    const waiting = watcher.next();
    gone.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(build.state.signal?.aborted).toBe(false);

    const stranger: TJobCaller = { userId: "u-other", admin: false };
    expect(() => jobs.cancel({ jobId, caller: stranger })).toThrow(`no job ${jobId}`);
    expect(build.state.signal?.aborted).toBe(false);
    expect(jobs.cancel({ jobId, caller: { userId: "u-admin", admin: true } })).toEqual({ cancelled: true });
    expect(build.state.signal?.aborted).toBe(true);
    await flushAsync();
    expect(jobs.cancel({ jobId, caller: OWNER })).toEqual({ cancelled: false });

    const other = manualStream<TBuildProgress>();
    const { jobs: stopping } = setup();
    await stopping.start({ kind: "build", ownerId: OWNER.userId, begin: other.begin });
    await stopping.stop();
    expect(other.state.signal?.aborted).toBe(true);
    await expect(
      stopping.start({ kind: "build", ownerId: OWNER.userId, begin: other.begin }),
    ).rejects.toThrow("the central is shutting down");
  });
});
