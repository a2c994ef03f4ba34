/**
 * One-off operations the central asks for (`op.request`): container logs
 * (tail, or follow until cancelled), image pull, list, remove, build (from a
 * context uploaded beforehand) and push; volume and network create, list and
 * remove. Each runs with its own timeout and
 * abort signal, streams `op.progress` while it works and ends with exactly one
 * `op.result`. Operations are not state: a lost connection aborts them all and
 * the central asks again if it still wants the answer.
 */

import type { Clock, TimerHandle } from "@fleet/shared/clock";
import { ZDigest } from "@fleet/shared/image-ref";
import type {
  TOpProgressFrame,
  TOpResultFrame,
  TOpSuccessFrame,
} from "@fleet/shared/protocol/agent-to-server";
import type { TErrorFrame } from "@fleet/shared/protocol/common";
import { MAX_MESSAGE_LENGTH } from "@fleet/shared/protocol/common";
import {
  MAX_IMAGES_LISTED,
  MAX_LOG_LINE_LENGTH,
  MAX_NETWORKS_LISTED,
  MAX_VOLUMES_LISTED,
  type TLogLine,
  type TOperation,
  type TOperationError,
  type TOperationErrorCode,
  type TOperationKind,
  type TOperationOf,
  type TOperationResult,
  ZImageSummary,
  ZNetworkSummary,
  ZOperationResults,
  ZVolumeSummary,
} from "@fleet/shared/protocol/operations";
import type {
  TOpCancelFrame,
  TOpRequestFrame,
  TUploadChunkFrame,
} from "@fleet/shared/protocol/server-to-agent";
import { MAX_FRAME_BYTES } from "@fleet/shared/protocol/version";
import type { Logger } from "pino";
import type { ContainerDriver, LogLine } from "./runtime/container-driver";
import { isDriverError } from "./runtime/driver";
import type { HostObjectStore } from "./runtime/host-object-store";
import type { ImageStore, PullProgress } from "./runtime/image-store";
import { DEFAULT_UPLOAD_LIMITS, UploadAssembler, UploadError, type UploadLimits } from "./upload-assembler";

export interface OperationLimits {
  /** Operations running at once; more are refused. */
  maxConcurrent: number;
  /** Bytes of log lines in one `logs` result; older lines are left out past it. */
  logResultBudgetBytes: number;
  /** Per layer, pull/push progress goes out at most this often unless its status changes. */
  progressIntervalMs: number;
  uploads: UploadLimits;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxConcurrent: 32,
  // Leaves room under MAX_FRAME_BYTES for the envelope and JSON escaping.
  logResultBudgetBytes: Math.floor(MAX_FRAME_BYTES * 0.8),
  progressIntervalMs: 250,
  uploads: DEFAULT_UPLOAD_LIMITS,
};

export type TOperationOutbound = TOpProgressFrame | TOpResultFrame | TErrorFrame;

export interface OperationRunnerOptions {
  /** Only for `logs`. */
  containers: Pick<ContainerDriver, "logs">;
  images: ImageStore;
  hostObjects: HostObjectStore;
  /** The engine id of a Fleet container on this host, or null if it has none. */
  engineIdOf: (containerId: string) => string | null;
  send: (frame: TOperationOutbound) => boolean;
  /** True while the link's send buffer is past its bound (followed logs then drop lines, and say so). */
  isCongested: () => boolean;
  clock: Clock;
  log: Logger;
  limits?: Partial<OperationLimits>;
  /** Stages the central's binary for a self-upgrade; absent where the agent cannot replace itself. */
  upgrade?: (request: TOperationOf<"agent.upgrade">, signal: AbortSignal) => Promise<{ bytes: number }>;
}

/** An error an operation ends with, already in the protocol's terms. */
export class OperationError extends Error {
  override name = "OperationError";
  constructor(
    readonly code: TOperationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface RunningOp {
  id: string;
  kind: TOperationKind;
  abort: AbortController;
  timer: TimerHandle;
  cancelled: boolean;
  timedOut: boolean;
}

function trim(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function toWireLine(line: LogLine): TLogLine {
  const ts = line.ts ? Date.parse(line.ts) : Number.NaN;
  return {
    stream: line.stream,
    line: trim(line.line, MAX_LOG_LINE_LENGTH),
    ...(Number.isFinite(ts) && ts >= 0 ? { ts } : {}),
  };
}

function validDigest(digest: string | null): string | null {
  return digest !== null && ZDigest.safeParse(digest).success ? digest : null;
}

/**
 * The entries that fit the protocol (one an engine names oddly is left out
 * rather than failing the whole list) and one frame.
 */
function fitted<T>(
  entries: readonly unknown[],
  schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  max: number,
): { items: T[]; left: number } {
  const items: T[] = [];
  let budget = Math.floor(MAX_FRAME_BYTES * 0.9);
  for (const entry of entries) {
    const parsed = schema.safeParse(entry);
    if (!parsed.success) continue;
    budget -= Buffer.byteLength(JSON.stringify(parsed.data)) + 1;
    if (budget < 0 || items.length >= max) break;
    items.push(parsed.data);
  }
  return { items, left: entries.length - items.length };
}

export class OperationRunner {
  private readonly running = new Map<string, RunningOp>();
  private readonly uploads: UploadAssembler;
  private readonly limits: OperationLimits;
  private readonly log: Logger;

  constructor(private readonly opts: OperationRunnerOptions) {
    this.limits = { ...DEFAULT_OPERATION_LIMITS, ...opts.limits };
    this.uploads = new UploadAssembler(opts.clock, this.limits.uploads);
    this.log = opts.log.child({ component: "operations" });
  }

  get activeCount(): number {
    return this.running.size;
  }

  get uploadBytesHeld(): number {
    return this.uploads.heldBytes;
  }

  handleUploadChunk(frame: TUploadChunkFrame): void {
    const problem = this.uploads.add(frame);
    if (problem) {
      this.log.warn({ uploadId: frame.uploadId, problem }, "upload rejected");
      this.opts.send({
        type: "error",
        code: "bad_frame",
        message: trim(problem, MAX_MESSAGE_LENGTH),
        ref: frame.uploadId,
      });
    }
  }

  handleRequest(frame: TOpRequestFrame): void {
    if (this.running.has(frame.id)) {
      this.opts.send({
        type: "error",
        code: "bad_frame",
        message: `operation ${frame.id} is already running`,
        ref: frame.id,
      });
      return;
    }
    if (this.running.size >= this.limits.maxConcurrent) {
      this.fail(frame.id, {
        code: "unsupported",
        message: `at most ${this.limits.maxConcurrent} operations at once`,
      });
      return;
    }
    const abort = new AbortController();
    const op: RunningOp = {
      id: frame.id,
      kind: frame.op.kind,
      abort,
      cancelled: false,
      timedOut: false,
      timer: this.opts.clock.setTimeout(() => {
        op.timedOut = true;
        abort.abort(new OperationError("timeout", `timed out after ${frame.timeoutMs} ms`));
      }, frame.timeoutMs),
    };
    this.running.set(frame.id, op);
    this.log.debug({ id: frame.id, kind: frame.op.kind }, "operation started");
    void this.execute(op, frame.op);
  }

  handleCancel(frame: TOpCancelFrame): void {
    const op = this.running.get(frame.id);
    if (!op) return; // already finished: its result is on its way
    op.cancelled = true;
    op.abort.abort(new OperationError("cancelled", "cancelled by the central"));
  }

  /** The connection is gone: abort everything in flight (its answers could not be delivered). */
  abortAll(): void {
    for (const op of this.running.values()) {
      op.cancelled = true;
      op.abort.abort(new OperationError("cancelled", "the connection to the central was lost"));
    }
    this.uploads.clear();
  }

  // ---- execution -----------------------------------------------------------

  private async execute(op: RunningOp, request: TOperation): Promise<void> {
    try {
      const result = await this.dispatch(op, request);
      const checked = ZOperationResults[request.kind].safeParse(result);
      if (!checked.success) {
        throw new OperationError(
          "internal",
          `the engine's answer did not fit the protocol: ${checked.error.message}`,
        );
      }
      this.finish(op, {
        type: "op.result",
        id: op.id,
        ok: true,
        kind: request.kind,
        result: checked.data,
      } as TOpSuccessFrame);
    } catch (error) {
      this.finishWithError(op, error);
    }
  }

  private dispatch(op: RunningOp, request: TOperation): Promise<TOperationResult<TOperationKind>> {
    switch (request.kind) {
      case "logs":
        return this.logs(op, request);
      case "image.pull":
        return this.pull(op, request);
      case "image.list":
        return this.list();
      case "image.remove":
        return this.removeImage(request);
      case "image.build":
        return this.build(op, request);
      case "image.push":
        return this.push(op, request);
      case "volume.create":
        return this.opts.hostObjects.create("volume", { name: request.name }).then((volume) => ({ volume }));
      case "volume.list":
        return this.listVolumes();
      case "volume.remove":
        return this.opts.hostObjects.remove("volume", request.name).then(() => ({ name: request.name }));
      case "network.create":
        return this.opts.hostObjects
          .create("network", { name: request.name, internal: request.internal })
          .then((network) => ({ network }));
      case "network.list":
        return this.listNetworks();
      case "network.remove":
        return this.opts.hostObjects.remove("network", request.name).then(() => ({ name: request.name }));
      case "agent.upgrade":
        if (!this.opts.upgrade)
          return Promise.reject(new OperationError("unsupported", "this agent cannot upgrade itself"));
        return this.opts.upgrade(request, op.abort.signal);
    }
  }

  private async logs(op: RunningOp, request: TOperationOf<"logs">): Promise<TOperationResult<"logs">> {
    const engineId = this.opts.engineIdOf(request.containerId);
    if (!engineId) throw new OperationError("not_found", `no container ${request.containerId} on this host`);
    const lines = this.opts.containers.logs(
      engineId,
      {
        tail: request.tail,
        follow: request.follow,
        ...(request.since !== undefined ? { since: (request.since / 1000).toFixed(3) } : {}),
        stdout: request.stdout,
        stderr: request.stderr,
      },
      op.abort.signal,
    );
    if (request.follow) {
      let dropped = 0;
      try {
        for await (const line of lines) {
          if (this.opts.isCongested()) {
            dropped++;
            continue;
          }
          if (dropped > 0) {
            this.progress(op, {
              kind: "log",
              stream: "stderr",
              line: `[fleet-agent] ${dropped} log lines dropped: the link to the central is congested`,
            });
            dropped = 0;
          }
          this.progress(op, { kind: "log", ...toWireLine(line) });
        }
      } catch (error) {
        // A follow ends normally when cancelled or when its time is up.
        if (!(op.cancelled || op.timedOut)) throw error;
      }
      return { lines: [], truncated: false };
    }
    const collected: TLogLine[] = [];
    for await (const line of lines) collected.push(toWireLine(line));
    // Keep the newest lines that fit the budget.
    let budget = this.limits.logResultBudgetBytes;
    let first = collected.length;
    while (first > 0) {
      const size = Buffer.byteLength(JSON.stringify(collected[first - 1])) + 1;
      if (size > budget) break;
      budget -= size;
      first--;
    }
    return { lines: collected.slice(first), truncated: first > 0 };
  }

  private async pull(
    op: RunningOp,
    request: TOperationOf<"image.pull">,
  ): Promise<TOperationResult<"image.pull">> {
    const { digest } = await this.opts.images.pullImage(request.image, {
      ...(request.auth ? { auth: request.auth } : {}),
      onProgress: this.progressThrottle(op),
      signal: op.abort.signal,
    });
    return { digest: validDigest(digest) };
  }

  private async list(): Promise<TOperationResult<"image.list">> {
    const images = await this.opts.images.listImages();
    const out: TOperationResult<"image.list">["images"] = [];
    let budget = Math.floor(MAX_FRAME_BYTES * 0.9);
    for (const image of images) {
      const parsed = ZImageSummary.safeParse(image);
      if (!parsed.success) {
        this.log.debug({ image: image.id, issue: parsed.error.message }, "image left out of the list");
        continue;
      }
      budget -= Buffer.byteLength(JSON.stringify(parsed.data)) + 1;
      if (budget < 0 || out.length >= MAX_IMAGES_LISTED) {
        this.log.warn({ total: images.length, listed: out.length }, "image list cut to fit one frame");
        break;
      }
      out.push(parsed.data);
    }
    return { images: out };
  }

  private async listVolumes(): Promise<TOperationResult<"volume.list">> {
    const volumes = fitted(await this.opts.hostObjects.list("volume"), ZVolumeSummary, MAX_VOLUMES_LISTED);
    if (volumes.left > 0) this.log.warn({ left: volumes.left }, "volumes left out of the list");
    return { volumes: volumes.items };
  }

  private async listNetworks(): Promise<TOperationResult<"network.list">> {
    const networks = fitted(
      await this.opts.hostObjects.list("network"),
      ZNetworkSummary,
      MAX_NETWORKS_LISTED,
    );
    if (networks.left > 0) this.log.warn({ left: networks.left }, "networks left out of the list");
    return { networks: networks.items };
  }

  private async removeImage(
    request: TOperationOf<"image.remove">,
  ): Promise<TOperationResult<"image.remove">> {
    await this.opts.images.removeImage(request.image, { force: request.force });
    // The store reports success only; an id names the image itself, a reference one of its tags.
    const isId = /^(?:sha256:)?[a-f0-9]{12,64}$/.test(request.image);
    return { untagged: isId ? [] : [request.image], deleted: isId ? [request.image] : [] };
  }

  private async build(
    op: RunningOp,
    request: TOperationOf<"image.build">,
  ): Promise<TOperationResult<"image.build">> {
    const context = await this.uploads.take(request.uploadId, op.abort.signal);
    const { imageId } = await this.opts.images.buildImage(context, {
      tag: request.tag,
      dockerfile: request.dockerfile,
      onOutput: (line) => this.progress(op, { kind: "output", line: trim(line, MAX_LOG_LINE_LENGTH) }),
      signal: op.abort.signal,
    });
    return { imageId };
  }

  private async push(
    op: RunningOp,
    request: TOperationOf<"image.push">,
  ): Promise<TOperationResult<"image.push">> {
    const { digest } = await this.opts.images.pushImage(request.image, {
      ...(request.auth ? { auth: request.auth } : {}),
      onProgress: this.progressThrottle(op),
      signal: op.abort.signal,
    });
    return { digest: validDigest(digest) };
  }

  // ---- plumbing ------------------------------------------------------------

  /** Per layer: every change of status goes out, byte counts at most every progressIntervalMs. */
  private progressThrottle(op: RunningOp): (p: PullProgress) => void {
    const last = new Map<string, { status: string; at: number }>();
    return (p) => {
      const key = p.id ?? "";
      const now = this.opts.clock.now();
      const previous = last.get(key);
      if (previous && previous.status === p.status && now - previous.at < this.limits.progressIntervalMs)
        return;
      last.set(key, { status: p.status, at: now });
      this.progress(op, {
        kind: "progress",
        status: trim(p.status, 1024),
        ...(p.id !== undefined ? { id: trim(p.id, 128) } : {}),
        ...(p.current !== undefined && p.current >= 0 ? { current: p.current } : {}),
        ...(p.total !== undefined && p.total >= 0 ? { total: p.total } : {}),
      });
    };
  }

  private progress(op: RunningOp, data: TOpProgressFrame["data"]): void {
    if (!this.running.has(op.id)) return;
    this.opts.send({ type: "op.progress", id: op.id, data });
  }

  private finishWithError(op: RunningOp, error: unknown): void {
    let failure: TOperationError;
    if (op.timedOut) failure = { code: "timeout", message: `${op.kind} timed out` };
    else if (op.cancelled) {
      const reason = op.abort.signal.reason;
      failure = { code: "cancelled", message: reason instanceof Error ? reason.message : "cancelled" };
    } else if (error instanceof OperationError) failure = { code: error.code, message: error.message };
    else if (error instanceof UploadError) failure = { code: error.code, message: error.message };
    else if (isDriverError(error, "not-found") || isDriverError(error, "image-not-found")) {
      failure = { code: "not_found", message: error.message };
    } else if (isDriverError(error, "conflict")) failure = { code: "conflict", message: error.message };
    else if (isDriverError(error)) failure = { code: "engine", message: error.message };
    else {
      this.log.error({ err: error, id: op.id, kind: op.kind }, "operation failed unexpectedly");
      failure = { code: "internal", message: error instanceof Error ? error.message : String(error) };
    }
    failure.message = trim(failure.message, MAX_MESSAGE_LENGTH);
    this.finish(op, { type: "op.result", id: op.id, ok: false, error: failure });
  }

  private fail(id: string, error: TOperationError): void {
    this.opts.send({ type: "op.result", id, ok: false, error });
  }

  private finish(op: RunningOp, frame: TOpResultFrame): void {
    this.opts.clock.clearTimeout(op.timer);
    this.running.delete(op.id);
    this.log.debug({ id: op.id, kind: op.kind, ok: frame.ok }, "operation finished");
    this.opts.send(frame);
  }
}
