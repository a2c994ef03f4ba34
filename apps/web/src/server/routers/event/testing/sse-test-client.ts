// A tRPC client for integration tests that also speaks subscriptions the way
// the dashboard does (SSE through `httpSubscriptionLink`), with Node's
// missing EventSource supplied by the `eventsource` package and the API token
// sent on every request. `recordSubscription` keeps what a subscription
// delivers and lets a test wait for it.
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  type TRPCLink,
} from "@trpc/client";
import type { AnyTRPCRouter } from "@trpc/server";
import { EventSource } from "eventsource";
import superjson from "superjson";
import type { AppRouter } from "../../_app";

export function createSseTestClient<TRouter extends AnyTRPCRouter>(
  baseUrl: string,
  bearer: string,
): TRPCClient<TRouter> {
  const url = `${baseUrl}/api/trpc`;
  const authorization = `Bearer ${bearer}`;
  // Every router here comes from trpc.ts's one builder (superjson); a generic
  // parameter cannot show the link options that, so they are typed for AppRouter.
  const link: TRPCLink<AppRouter> = splitLink({
    condition: (op) => op.type === "subscription",
    true: httpSubscriptionLink({
      url,
      transformer: superjson,
      EventSource,
      eventSourceOptions: {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, authorization } }),
      },
    }),
    false: httpLink({ url, transformer: superjson, headers: { authorization } }),
  });
  return createTRPCClient<TRouter>({ links: [link as unknown as TRPCLink<TRouter>] });
}

export interface RecordedSubscription<T> {
  /** Data in arrival order, with the tracked id each came with. */
  readonly items: { id: string | undefined; data: T }[];
  readonly errors: unknown[];
  /** True once the server ended the stream. */
  readonly completed: boolean;
  /** Resolves when `predicate` accepts what has arrived (rejects on an error or after `timeoutMs`). */
  waitFor(predicate: (items: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  /** Resolves when the stream ended (or failed). */
  waitForEnd(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

type Subscribe<T> = (handlers: {
  onData(value: T): void;
  onError(error: unknown): void;
  onComplete(): void;
}) => { unsubscribe(): void };

/** `recordSubscription((h) => client.image.pull.subscribe(input, h))`: tracked data arrives as `{ id, data }`. */
export function recordSubscription<T>(
  subscribe: Subscribe<{ id: string; data: T } | T>,
): RecordedSubscription<T> {
  const items: { id: string | undefined; data: T }[] = [];
  const errors: unknown[] = [];
  let completed = false;
  let listeners: (() => void)[] = [];
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  const subscription = subscribe({
    onData(value) {
      const tracked =
        typeof value === "object" && value !== null && "id" in value && "data" in value
          ? (value as { id: string; data: T })
          : null;
      items.push(tracked ? { id: tracked.id, data: tracked.data } : { id: undefined, data: value as T });
      changed();
    },
    onError(error) {
      errors.push(error);
      changed();
    },
    onComplete() {
      completed = true;
      changed();
    },
  });

  const until = <R>(check: () => R | undefined, what: string, timeoutMs: number): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners = listeners.filter((other) => other !== listener);
        reject(
          new Error(`${what}: not within ${timeoutMs} ms (got ${JSON.stringify(items.map((i) => i.data))})`),
        );
      }, timeoutMs);
      const listener = () => {
        let result: R | undefined;
        try {
          result = check();
        } catch (error) {
          clearTimeout(timer);
          listeners = listeners.filter((other) => other !== listener);
          reject(error);
          return;
        }
        if (result === undefined) return;
        clearTimeout(timer);
        listeners = listeners.filter((other) => other !== listener);
        resolve(result);
      };
      listeners.push(listener);
      listener();
    });

  return {
    items,
    errors,
    get completed() {
      return completed;
    },
    waitFor(predicate, timeoutMs = 10_000) {
      return until(
        () => {
          const data = items.map((item) => item.data);
          if (predicate(data)) return data;
          if (errors.length > 0) throw errors[0];
          return undefined;
        },
        "waiting for subscription data",
        timeoutMs,
      );
    },
    waitForEnd(timeoutMs = 10_000) {
      return until(
        () => {
          if (errors.length > 0) throw errors[0];
          return completed ? true : undefined;
        },
        "waiting for the subscription to end",
        timeoutMs,
      ).then(() => undefined);
    },
    unsubscribe: () => subscription.unsubscribe(),
  };
}
