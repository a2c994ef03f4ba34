/**
 * Reassembles build contexts sent as `upload.chunk` frames. Chunks must come
 * in order (seq 0, 1, 2 …) over the one connection; the total held across all
 * uploads is bounded, and an upload nobody touches for a while is dropped so a
 * central that never sends the build request cannot pin memory.
 */

import type { Clock, TimerHandle } from "@fleet/shared/clock";
import type { TUploadChunkFrame } from "@fleet/shared/protocol/server-to-agent";

export interface UploadLimits {
  /** Bytes held across all uploads at once. */
  maxTotalBytes: number;
  /** An upload with no chunk and no build for this long is dropped. */
  idleTimeoutMs: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxTotalBytes: 256 * 1024 * 1024,
  idleTimeoutMs: 5 * 60_000,
};

export class UploadError extends Error {
  override name = "UploadError";
  constructor(
    readonly code: "not_found" | "invalid",
    message: string,
  ) {
    super(message);
  }
}

interface Upload {
  chunks: Buffer[];
  bytes: number;
  nextSeq: number;
  complete: boolean;
  failure: string | null;
  timer: TimerHandle | null;
  waiters: Set<() => void>;
}

export class UploadAssembler {
  private readonly uploads = new Map<string, Upload>();
  private held = 0;

  constructor(
    private readonly clock: Clock,
    private readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
  ) {}

  get heldBytes(): number {
    return this.held;
  }

  get count(): number {
    return this.uploads.size;
  }

  /** Adds a chunk; returns an error message when the upload is now failed. */
  add(frame: TUploadChunkFrame): string | null {
    let upload = this.uploads.get(frame.uploadId);
    if (!upload) {
      if (frame.seq !== 0) return `upload ${frame.uploadId}: chunk ${frame.seq} arrived before chunk 0`;
      upload = {
        chunks: [],
        bytes: 0,
        nextSeq: 0,
        complete: false,
        failure: null,
        timer: null,
        waiters: new Set(),
      };
      this.uploads.set(frame.uploadId, upload);
    }
    this.touch(frame.uploadId, upload);
    if (upload.failure) return null; // already reported
    if (upload.complete)
      return this.fail(upload, `upload ${frame.uploadId}: chunk ${frame.seq} after the final one`);
    if (frame.seq !== upload.nextSeq) {
      return this.fail(
        upload,
        `upload ${frame.uploadId}: expected chunk ${upload.nextSeq}, got ${frame.seq}`,
      );
    }
    const data = Buffer.from(frame.data, "base64");
    if (this.held + data.length > this.limits.maxTotalBytes) {
      return this.fail(
        upload,
        `upload ${frame.uploadId}: build contexts may hold at most ${this.limits.maxTotalBytes} bytes at once`,
      );
    }
    upload.chunks.push(data);
    upload.bytes += data.length;
    this.held += data.length;
    upload.nextSeq++;
    if (frame.final) {
      upload.complete = true;
      this.wake(upload);
    }
    return null;
  }

  /**
   * The whole context of a finished upload, removing it. Waits for the final
   * chunk if the upload is still arriving; fails at once for an unknown id.
   */
  async take(uploadId: string, signal?: AbortSignal): Promise<Buffer> {
    const upload = this.uploads.get(uploadId);
    if (!upload)
      throw new UploadError("not_found", `no upload ${uploadId} (send its chunks before the build request)`);
    while (!upload.complete && !upload.failure) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          upload.waiters.delete(wake);
          reject(signal?.reason);
        };
        const wake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        upload.waiters.add(wake);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    if (upload.failure) {
      this.drop(uploadId);
      throw new UploadError("invalid", upload.failure);
    }
    const context = Buffer.concat(upload.chunks);
    this.drop(uploadId);
    return context;
  }

  /** Drops every upload (the connection they arrived on is gone). */
  clear(): void {
    for (const id of [...this.uploads.keys()]) {
      const upload = this.uploads.get(id)!;
      upload.failure ??= `upload ${id}: the connection was lost`;
      this.wake(upload);
      this.drop(id);
    }
  }

  private fail(upload: Upload, message: string): string {
    upload.failure = message;
    this.held -= upload.bytes;
    upload.chunks = [];
    upload.bytes = 0;
    this.wake(upload);
    return message;
  }

  private touch(uploadId: string, upload: Upload): void {
    if (upload.timer !== null) this.clock.clearTimeout(upload.timer);
    upload.timer = this.clock.setTimeout(() => {
      upload.timer = null;
      upload.failure ??= `upload ${uploadId}: no build request within ${this.limits.idleTimeoutMs} ms`;
      this.wake(upload);
      this.drop(uploadId);
    }, this.limits.idleTimeoutMs);
  }

  private wake(upload: Upload): void {
    for (const wake of [...upload.waiters]) wake();
    upload.waiters.clear();
  }

  private drop(uploadId: string): void {
    const upload = this.uploads.get(uploadId);
    if (!upload) return;
    if (upload.timer !== null) this.clock.clearTimeout(upload.timer);
    this.held -= upload.bytes;
    this.uploads.delete(uploadId);
  }
}
