// Work a frame starts but must not wait for (events recorded after a
// disconnect, a host's address stored, after-connect hooks): its failure is
// logged instead of failing the frame, and the gateway's close waits for it
// so nothing is cut off halfway at shutdown.
import type { Logger } from "pino";

export class BackgroundWork {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly log: Logger) {}

  track(work: Promise<unknown>, what: string): void {
    const guarded = work.catch((error: unknown) => this.log.error({ err: error }, `${what} failed`));
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  /** Resolves when the work tracked so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
