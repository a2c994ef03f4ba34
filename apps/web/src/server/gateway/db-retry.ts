// A frame an agent sent is handled once: the agent does not send it again.
// When its handling fails because the database is unreachable (a Postgres
// restart, a network cut), the frame is therefore retried until the database
// is back instead of being lost, for as long as an outage the central is
// meant to survive (90 s). Frames of one session are handled in order, so
// the ones behind it wait (and the socket stops being read once enough
// queue); the gateway closes the session with 4013 meanwhile, and what was
// already received is still handled (agent-session.ts). Other failures are
// not retried: they would fail again.
//
// A retry runs the whole handler again. The frames' writes set state (acks,
// statuses: fenced by the connection's epoch) or add one row (an event) as
// their last step, so a step that committed before the failure is applied
// again to the same effect.
//
// May import: db (the connection-error test), the session's types.
import { isConnectionError } from "../db/db-health";

/** How long one frame is retried through an outage. */
export const FRAME_RETRY_LIMIT_MS = 90_000;
const FIRST_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 2000;

export interface DbRetryOptions<Session> {
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** Default FRAME_RETRY_LIMIT_MS. */
  limitMs?: number;
  /** A session replaced by a newer connection of its host: what it still holds is stale. */
  abandoned?(session: Session): boolean;
  /** Where the waits come from (tests). */
  sleep?(ms: number): Promise<void>;
  now?(): number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface RetryingFrameHandler<Session, Frame> {
  (session: Session, frame: Frame): Promise<void>;
  /**
   * The database is back: held frames retry now rather than after their
   * wait, so they are written before the agents' new connections (whose
   * epoch would fence out what the old ones still hold).
   */
  wake(): void;
}

/** `handle`, retried with backoff while it fails with a connection error, for at most `limitMs`. */
export function retryOnConnectionErrors<Session, Frame extends { type: string }>(
  handle: (session: Session, frame: Frame) => Promise<void>,
  options: DbRetryOptions<Session>,
): RetryingFrameHandler<Session, Frame> {
  const limitMs = options.limitMs ?? FRAME_RETRY_LIMIT_MS;
  const now = options.now ?? (() => performance.now());
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      sleepers.add(resolve);
      void (options.sleep ?? realSleep)(ms).then(() => {
        sleepers.delete(resolve);
        resolve();
      });
    });
  const retrying = async (session: Session, frame: Frame) => {
    const startedAt = now();
    let delay = FIRST_RETRY_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await handle(session, frame);
        if (attempt > 1) {
          options.log.info(
            { type: frame.type, attempts: attempt, waitedMs: Math.round(now() - startedAt) },
            "a frame held through a database outage was handled",
          );
        }
        return;
      } catch (error) {
        const waited = now() - startedAt;
        if (!isConnectionError(error) || waited + delay > limitMs || options.abandoned?.(session))
          throw error;
        if (attempt === 1) {
          options.log.warn(
            { type: frame.type, err: error },
            "the database is unreachable: holding a frame until it is back",
          );
        }
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
      }
    }
  };
  return Object.assign(retrying, {
    wake() {
      for (const resolve of [...sleepers]) resolve();
      sleepers.clear();
    },
  });
}
