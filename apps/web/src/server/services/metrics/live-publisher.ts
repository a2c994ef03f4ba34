// Publishes `"metrics.live"` at most once per interval, with only what changed
// since the previous message: a hundred agents each sending every few seconds
// become one message a second for every open dashboard, not a hundred.
import type { LiveMetrics } from "../../events/event-bus";
import type { LatestSamples } from "./latest-samples";

export interface LivePublisherOptions {
  latest: LatestSamples;
  publish(message: LiveMetrics): void;
  intervalMs: number;
  now(): number;
}

export class LivePublisher {
  private seq = 0;
  private lastPublishedAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: LivePublisherOptions) {}

  /** New samples arrived: publish now if the interval has passed, else once it has. */
  notify(): void {
    if (this.stopped || this.timer) return;
    const wait = Math.max(0, this.lastPublishedAt + this.options.intervalMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publishNow();
    }, wait);
    this.timer.unref();
  }

  publishNow(): void {
    this.lastPublishedAt = performance.now();
    const { containers, hosts } = this.options.latest.takeChanges();
    if (containers.length === 0 && hosts.length === 0) return;
    this.seq++;
    this.options.publish({ seq: this.seq, at: this.options.now(), containers, hosts });
  }

  get lastSeq(): number {
    return this.seq;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
