// In-process, typed publish/subscribe between the central's parts: the gateway
// and services publish what changed, tRPC subscriptions stream it to browsers,
// the gateway listens for hosts to disconnect. Delivery is synchronous and
// best-effort (a throwing handler is logged, never propagated to the
// publisher); nothing is persisted: durable history is the Event table.
//
// The default bus lives on globalThis because this module can load twice in
// one process (server.ts and the Next.js bundle); both copies must share it.

import type { TContainerSample, THostSample } from "@fleet/shared/domain/metrics";
import type { TEventRow } from "./event-view";

export interface LatestContainerSample {
  hostId: string;
  sample: TContainerSample;
}

export interface LatestHostSample {
  hostId: string;
  sample: THostSample;
}

/** The payload of the bus topic `"metrics.live"`: samples newer than the previous message's. */
export interface LiveMetrics {
  /** Rises by one per message; subscriptions use it as the `tracked` id. */
  seq: number;
  /** When it was published (epoch ms). */
  at: number;
  containers: LatestContainerSample[];
  hosts: LatestHostSample[];
}

/**
 * Topics and their payloads. Another room that needs a topic adds it here
 * (one line, one payload type); subscribers are typed by it.
 */
export interface BusTopics {
  /** A row just stored in the Event table. */
  event: TEventRow;
  /** Something about a host row changed (status, draining, capacity, labels, …). */
  "host.changed": { hostId: string };
  /** Something about a container row changed (state, placement, …). */
  "container.changed": { containerId: string; hostId: string | null };
  /** The newest samples, throttled by the metrics service. */
  "metrics.live": LiveMetrics;
  /** An administrator removed the host: the gateway disconnects its agent. */
  "host.removed": { hostId: string };
  /**
   * What a caller may do changed: a token revoked, a session ended, a user
   * disabled, removed or given another role. Open streams that were
   * authorized by it close (`apiTokenId`/`sessionId` name one credential;
   * without them, every credential of the user).
   */
  "access.changed": { userId: string; apiTokenId?: string; sessionId?: string };
  /** A deployment's rollout moved (a step, a state): watchers re-read it. */
  "rollout.changed": { deploymentId: string; rolloutId: string };
  /** A rollout was started, paused, resumed or promoted: the rollout loop looks at once. */
  "rollout.started": { deploymentId: string; rolloutId: string };
}
export type TBusTopic = keyof BusTopics;

export type BusHandler<K extends TBusTopic> = (payload: BusTopics[K]) => void;

export interface StreamOptions {
  /** Payloads kept for a slow reader; the oldest are dropped beyond it (default 1000). */
  bufferSize?: number;
}

export interface EventBus {
  publish<K extends TBusTopic>(topic: K, payload: BusTopics[K]): void;
  /** Returns the function that unsubscribes. */
  subscribe<K extends TBusTopic>(topic: K, handler: BusHandler<K>): () => void;
  /**
   * Every payload published on `topic` from now on, until `signal` aborts or
   * the caller stops iterating (what a tRPC subscription's generator yields).
   */
  stream<K extends TBusTopic>(
    topic: K,
    signal?: AbortSignal,
    options?: StreamOptions,
  ): AsyncGenerator<BusTopics[K], void, undefined>;
  /** Subscribers per topic, for tests and diagnostics. */
  subscriberCount(topic: TBusTopic): number;
}

const DEFAULT_STREAM_BUFFER = 1000;

export interface CreateEventBusOptions {
  /** Where a handler's exception goes (default: console.error). */
  onHandlerError?: (error: unknown, topic: TBusTopic) => void;
}

export function createEventBus(options: CreateEventBusOptions = {}): EventBus {
  const handlers = new Map<TBusTopic, Set<(payload: unknown) => void>>();
  const onHandlerError =
    options.onHandlerError ??
    ((error: unknown, topic: TBusTopic) => console.error(`event bus: a "${topic}" handler threw`, error));

  const subscribe = <K extends TBusTopic>(topic: K, handler: BusHandler<K>): (() => void) => {
    let set = handlers.get(topic);
    if (!set) {
      set = new Set();
      handlers.set(topic, set);
    }
    const entry = handler as (payload: unknown) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  };

  return {
    publish(topic, payload) {
      const set = handlers.get(topic);
      if (!set) return;
      // A copy: handlers may unsubscribe while being called.
      for (const handler of [...set]) {
        try {
          handler(payload);
        } catch (error) {
          onHandlerError(error, topic);
        }
      }
    },
    subscribe,
    async *stream(topic, signal, streamOptions) {
      type Payload = BusTopics[typeof topic];
      const bufferSize = streamOptions?.bufferSize ?? DEFAULT_STREAM_BUFFER;
      const queue: Payload[] = [];
      let wake: (() => void) | null = null;
      const notify = () => {
        const resolve = wake;
        wake = null;
        resolve?.();
      };
      const unsubscribe = subscribe(topic, (payload) => {
        queue.push(payload);
        if (queue.length > bufferSize) queue.shift();
        notify();
      });
      signal?.addEventListener("abort", notify, { once: true });
      try {
        while (!signal?.aborted) {
          const next = queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        unsubscribe();
        signal?.removeEventListener("abort", notify);
      }
    },
    subscriberCount(topic) {
      return handlers.get(topic)?.size ?? 0;
    },
  };
}

const busKey = Symbol.for("fleet.event-bus");
const globalBus = globalThis as { [busKey]?: EventBus };

/** The process's bus, shared by every copy of this module. */
export function getEventBus(): EventBus {
  globalBus[busKey] ??= createEventBus();
  return globalBus[busKey];
}
