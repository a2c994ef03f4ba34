// A deployment's newest rollout as it moves: the current state at once, then
// again whenever it changed. Woken by the bus (the rollout loop's steps, any
// replica's status) and by a slow poll, since a replica that merely stays
// healthy long enough to count changes nothing on the bus.
import type { PrismaClient } from "../../db/client";
import type { EventBus } from "../../events/event-bus";
import { getRollout, type TRolloutDetail } from "./rollout-view";

export const WATCH_POLL_MS = 1_000;

export async function* watchRollout(options: {
  db: PrismaClient;
  bus: EventBus;
  deploymentId: string;
  now: () => Date;
  signal?: AbortSignal | undefined;
  pollMs?: number;
}): AsyncGenerator<{ seq: number; rollout: TRolloutDetail | null }, void, undefined> {
  const { db, bus, deploymentId, signal } = options;
  const pollMs = options.pollMs ?? WATCH_POLL_MS;
  let wake: (() => void) | null = null;
  let dirty = true;
  const poke = () => {
    dirty = true;
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const unsubscribe = [
    bus.subscribe("rollout.changed", (change) => {
      if (change.deploymentId === deploymentId) poke();
    }),
    bus.subscribe("container.changed", poke),
  ];
  signal?.addEventListener("abort", poke);
  let seq = 0;
  let last = "";
  try {
    while (!signal?.aborted) {
      dirty = false;
      const rollout = await getRollout({ db, deploymentId, now: options.now() });
      const text = JSON.stringify(rollout);
      if (text !== last) {
        last = text;
        yield { seq: ++seq, rollout };
      }
      if (dirty || signal?.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(poke, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    for (const stop of unsubscribe) stop();
    signal?.removeEventListener("abort", poke);
  }
}
