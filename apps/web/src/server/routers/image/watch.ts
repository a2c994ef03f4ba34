// Watching a pull or a build that image.pull or image.build started: each
// progress message as `tracked(<seq>)`, from the job's first or after
// `lastEventId` (which the client sends itself on reconnecting, so a dropped
// connection resumes with no gap and no repeat), ending once the job has
// ended. Watching has no effects: the job runs to its end watched or not.
//
// Operators, as only they can start a job; of those, a job shows only to who
// started it and to administrators (jobCallerOf), so an id passed around
// shows nothing to anyone else.
import { tracked } from "@trpc/server";
import {
  type ImageJobRegistry,
  jobCallerOf,
  type TImageJobKind,
  type TJobCaller,
} from "../../services/image/image-jobs";
import { operatorProcedure } from "../../trpc";
import { zTrackedAsyncIterable } from "../async-iterable-output";
import { ZBuildProgress, ZPullProgress, ZWatchJobInput } from "./image-schemas";

async function* trackedMessages<K extends TImageJobKind>(
  jobs: Pick<ImageJobRegistry, "watch">,
  options: { kind: K; caller: TJobCaller; jobId: string; after: number; signal: AbortSignal | undefined },
) {
  const { signal, ...watch } = options;
  for await (const message of jobs.watch({ ...watch, ...(signal ? { signal } : {}) })) {
    yield tracked(String(message.seq), message.value);
  }
}

export const watchPull = operatorProcedure
  .input(ZWatchJobInput)
  .output(zTrackedAsyncIterable(ZPullProgress))
  .subscription(({ ctx, input, signal }) =>
    trackedMessages(ctx.services.imageJobs, {
      kind: "pull",
      caller: jobCallerOf(ctx.user),
      jobId: input.jobId,
      after: input.lastEventId,
      signal,
    }),
  );

export const watchBuild = operatorProcedure
  .input(ZWatchJobInput)
  .output(zTrackedAsyncIterable(ZBuildProgress))
  .subscription(({ ctx, input, signal }) =>
    trackedMessages(ctx.services.imageJobs, {
      kind: "build",
      caller: jobCallerOf(ctx.user),
      jobId: input.jobId,
      after: input.lastEventId,
      signal,
    }),
  );
