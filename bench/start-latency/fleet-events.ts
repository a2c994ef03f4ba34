/**
 * The central's event log as a client sees it live: one `event.stream` subscription (SSE)
 * for the whole run, remembering when each container's events arrived here, so the
 * benchmark can await "this container's `container.start` was recorded" without polling.
 * It resumes from the newest event stored before it subscribed (`lastEventId`), so an
 * event recorded while the SSE connection was still being set up is replayed, not lost.
 */
import type { AppRouter } from "@fleet/web/server/routers/_app";
import type { TRPCClient } from "@trpc/client";
import { wallNow } from "./clock";

export interface TSeenEvent {
  kind: string;
  /** When the event happened, by its recorder's clock (the agent's, for agent events). */
  ts: number;
  /** When it reached this process over SSE (wall-clock ms, sub-millisecond). */
  arrivedAt: number;
  message: string;
}

interface Waiter {
  containerId: string;
  kind: string;
  resolve(event: TSeenEvent): void;
  reject(error: Error): void;
}

export class FleetEventWatch {
  private readonly seen = new Map<string, TSeenEvent[]>();
  private waiters: Waiter[] = [];
  private failure: Error | null = null;
  private readonly subscription: { unsubscribe(): void };

  private constructor(client: TRPCClient<AppRouter>, lastEventId: string | null) {
    this.subscription = client.event.stream.subscribe(
      { lastEventId },
      {
        onData: ({ data }) => this.record(data),
        onError: (error) => this.fail(new Error(`event stream failed: ${String(error)}`)),
        onComplete: () => this.fail(new Error("event stream ended")),
      },
    );
  }

  static async start(client: TRPCClient<AppRouter>): Promise<FleetEventWatch> {
    const newest = await client.event.list.query({ limit: 1 });
    return new FleetEventWatch(client, newest.items[0]?.id ?? null);
  }

  /**
   * The first `kind` event of the container (at once if it already arrived). An
   * `agent.error` about the container (a launch that failed) rejects instead of waiting
   * for the timeout.
   */
  waitFor(containerId: string, kind: string, timeoutMs: number): Promise<TSeenEvent> {
    const found = this.find(containerId, kind);
    if (found) return Promise.resolve(found);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<TSeenEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const got = (this.seen.get(containerId) ?? []).map((e) => e.kind).join(", ") || "nothing";
        reject(
          new Error(`no ${kind} event for container ${containerId} within ${timeoutMs} ms (got ${got})`),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        containerId,
        kind,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    this.fail(new Error("event watch closed"));
  }

  private find(containerId: string, kind: string): TSeenEvent | undefined {
    return this.seen.get(containerId)?.find((event) => event.kind === kind);
  }

  private record(event: { kind: string; ts: Date; containerId: string | null; message: string }): void {
    const arrivedAt = wallNow();
    if (event.containerId === null) return;
    const seen: TSeenEvent = { kind: event.kind, ts: event.ts.getTime(), arrivedAt, message: event.message };
    const list = this.seen.get(event.containerId) ?? [];
    list.push(seen);
    this.seen.set(event.containerId, list);
    for (const waiter of this.waiters.filter((w) => w.containerId === event.containerId)) {
      if (waiter.kind === event.kind) waiter.resolve(seen);
      else if (event.kind === "agent.error")
        waiter.reject(new Error(`the agent reported an error for ${event.containerId}: ${event.message}`));
      else continue;
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
