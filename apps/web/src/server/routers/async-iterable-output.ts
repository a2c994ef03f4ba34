// `.output()` for a subscription: tRPC hands the whole return value (an async
// iterable) to the output parser, so the parser has to walk the iterable and
// check each yielded value. Tracked envelopes keep their id.
import { isTrackedEnvelope, type TrackedEnvelope, tracked } from "@trpc/server";
import { z } from "zod";

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

export function zTrackedAsyncIterable<T extends z.ZodType>(yieldSchema: T) {
  return z
    .custom<AsyncIterable<TrackedEnvelope<z.input<T>>>>(isAsyncIterable, "must be an async iterable")
    .transform(async function* (iterable): AsyncGenerator<TrackedEnvelope<z.output<T>>, void, unknown> {
      const iterator = iterable[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          if (!isTrackedEnvelope(next.value))
            throw new Error("subscription yielded a value without tracked()");
          const [id, data] = next.value;
          yield tracked(id, (await yieldSchema.parseAsync(data)) as z.output<T>);
        }
      } finally {
        await iterator.return?.();
      }
    });
}
