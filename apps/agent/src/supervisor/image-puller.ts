/**
 * Pulls images for containers about to be created. Several containers of one
 * image share a single pull; everyone waiting sees its progress. A pull is
 * aborted only when every container waiting for it has gone away.
 */
import type { ImageStore, PullProgress } from "../runtime/image-store";

export interface ImagePullListener {
  /** Called once the image turned out to be missing, before the pull. */
  onPulling?: () => void;
  onProgress?: (progress: PullProgress) => void;
  signal?: AbortSignal;
}

interface PullInFlight {
  promise: Promise<{ digest: string | null }>;
  listeners: Set<ImagePullListener>;
  abort: AbortController;
}

export interface ImagePullOutcome {
  pulled: boolean;
  digest: string | null;
}

export class ImagePuller {
  private readonly inFlight = new Map<string, PullInFlight>();

  constructor(
    private readonly store: ImageStore,
    private readonly hooks: {
      onPulled?: (image: string, digest: string | null) => void;
      onPullFailed?: (image: string, error: unknown) => void;
    } = {},
  ) {}

  /** Makes sure `image` is present; resolves `pulled: false` when it already was. */
  async ensure(image: string, listener: ImagePullListener = {}): Promise<ImagePullOutcome> {
    listener.signal?.throwIfAborted();
    if (!this.inFlight.has(image) && (await this.store.imageExists(image)))
      return { pulled: false, digest: null };
    listener.signal?.throwIfAborted();
    listener.onPulling?.();
    let pull = this.inFlight.get(image);
    if (pull) pull.listeners.add(listener);
    else pull = this.startPull(image, listener);
    const onAbort = () => {
      pull.listeners.delete(listener);
      if (pull.listeners.size === 0) pull.abort.abort(listener.signal?.reason);
    };
    listener.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const { digest } = await raceAbort(pull.promise, listener.signal);
      return { pulled: true, digest };
    } finally {
      listener.signal?.removeEventListener("abort", onAbort);
      pull.listeners.delete(listener);
    }
  }

  private startPull(image: string, first: ImagePullListener): PullInFlight {
    const abort = new AbortController();
    // The first listener is in place before the store is called, so no early progress is lost.
    const listeners = new Set<ImagePullListener>([first]);
    const promise = this.store
      .pullImage(image, {
        signal: abort.signal,
        onProgress: (progress) => {
          for (const l of listeners) l.onProgress?.(progress);
        },
      })
      .then(
        (result) => {
          this.hooks.onPulled?.(image, result.digest);
          return result;
        },
        (error: unknown) => {
          if (!abort.signal.aborted) this.hooks.onPullFailed?.(image, error);
          throw error;
        },
      )
      .finally(() => this.inFlight.delete(image));
    // Rejections reach every waiter through ensure(); this keeps an unobserved one from crashing the process.
    promise.catch(() => {});
    const pull = { promise, listeners, abort };
    this.inFlight.set(image, pull);
    return pull;
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
