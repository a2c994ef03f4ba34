import { parseServerFrame } from "@fleet/shared/protocol/frame";
import type { TServerFrame } from "@fleet/shared/protocol/server-to-agent";
import { makeOpFailure, makeOpProgress, makeOpResult } from "@fleet/shared/protocol/test-factories";
import { ManualClock } from "@fleet/shared/testing/manual-clock";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { isAppError } from "../errors";
import { DEFAULT_OP_TIMEOUT_MS, OP_CANCEL_GRACE_MS, OP_TIMEOUT_GRACE_MS } from "./gateway-limits";
import { createOpBroker, type OpChannel, OpError } from "./op-broker";

class RecordingChannel implements OpChannel {
  readonly sent: TServerFrame[] = [];
  open = true;
  buffered = 0;
  constructor(
    readonly hostId = "h1",
    readonly connectionId = 1,
  ) {}
  send(frame: TServerFrame): boolean {
    if (!this.open) return false;
    // Every frame the broker builds must pass the agent's own check.
    const parsed = parseServerFrame(JSON.stringify(frame));
    if (!parsed.ok) throw new Error(parsed.error);
    this.sent.push(frame);
    return true;
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  isOpen(): boolean {
    return this.open;
  }
  lastRequestId(): string {
    const request = this.sent.findLast((frame) => frame.type === "op.request");
    if (request?.type !== "op.request") throw new Error("no op.request sent");
    return request.id;
  }
}

function setup() {
  const clock = new ManualClock();
  const broker = createOpBroker({ clock, log: pino({ level: "silent" }) });
  return { clock, broker, channel: new RecordingChannel() };
}

async function rejectionOf(promise: Promise<unknown>): Promise<OpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpError) return error;
    throw error;
  }
  throw new Error("expected a rejection");
}

describe("op broker", () => {
  it("sends the request with defaults applied and resolves with the matching result", async () => {
    const { broker, channel } = setup();
    const progress: unknown[] = [];
    const result = broker.request(
      channel,
      { kind: "logs", containerId: "c-1", tail: 5 },
      {
        onProgress: (data) => progress.push(data),
      },
    );
    const id = channel.lastRequestId();
    expect(channel.sent[0]).toMatchObject({
      type: "op.request",
      timeoutMs: DEFAULT_OP_TIMEOUT_MS,
      op: { kind: "logs", containerId: "c-1", tail: 5, follow: false, stdout: true, stderr: true },
    });

    broker.handleProgress(1, makeOpProgress({ id }));
    broker.handleResult(1, makeOpResult({ id }));
    await expect(result).resolves.toEqual({
      lines: [{ stream: "stderr", line: "warning: low disk" }],
      truncated: false,
    });
    expect(progress).toHaveLength(1);
    expect(broker.pendingCount()).toBe(0);
  });

  it("turns an error result into an OpError that is also an AppError", async () => {
    const { broker, channel } = setup();
    const result = broker.request(channel, { kind: "image.pull", image: "127.0.0.1:5000/missing:1" });
    broker.handleResult(1, makeOpFailure({ id: channel.lastRequestId() }));
    const error = await rejectionOf(result);
    expect(error.opErrorCode).toBe("not_found");
    expect(error.code).toBe("NOT_FOUND");
    expect(isAppError(error)).toBe(true);
  });

  it("rejects a result of another kind than requested", async () => {
    const { broker, channel } = setup();
    const result = broker.request(channel, { kind: "image.list" });
    broker.handleResult(1, makeOpResult({ id: channel.lastRequestId() }));
    const error = await rejectionOf(result);
    expect(error.message).toMatch(/answered a image.list request with a logs result/);
  });

  it("ignores answers from another connection", async () => {
    const { broker, channel } = setup();
    const result = broker.request(channel, { kind: "image.list" });
    const id = channel.lastRequestId();
    broker.handleResult(2, makeOpFailure({ id }));
    expect(broker.pendingCount()).toBe(1);
    broker.handleResult(1, { type: "op.result", id, ok: true, kind: "image.list", result: { images: [] } });
    await expect(result).resolves.toEqual({ images: [] });
  });

  it("times out after the agent's timeout plus a grace, and tells the agent to stop", async () => {
    const { clock, broker, channel } = setup();
    const result = broker.request(channel, { kind: "image.list" }, { timeoutMs: 1000 });
    const settled = rejectionOf(result);
    await clock.advance(1000 + OP_TIMEOUT_GRACE_MS - 1);
    expect(broker.pendingCount()).toBe(1);
    await clock.advance(1);
    const error = await settled;
    expect(error.opErrorCode).toBe("timeout");
    expect(error.message).toBe("image.list on host h1 timed out after 1s");
    expect(channel.sent.at(-1)).toEqual({ type: "op.cancel", id: channel.lastRequestId() });
  });

  it("sends op.cancel on abort and settles with the agent's answer", async () => {
    const { broker, channel } = setup();
    const abort = new AbortController();
    const result = broker.request(
      channel,
      { kind: "logs", containerId: "c-1", follow: true },
      { signal: abort.signal },
    );
    const id = channel.lastRequestId();
    abort.abort();
    expect(channel.sent.at(-1)).toEqual({ type: "op.cancel", id });
    // A followed log ends with a success: its lines went out as progress.
    broker.handleResult(1, {
      type: "op.result",
      id,
      ok: true,
      kind: "logs",
      result: { lines: [], truncated: false },
    });
    await expect(result).resolves.toEqual({ lines: [], truncated: false });
  });

  it("fails a cancelled request when the agent never answers the cancel", async () => {
    const { clock, broker, channel } = setup();
    const abort = new AbortController();
    const settled = rejectionOf(broker.request(channel, { kind: "image.list" }, { signal: abort.signal }));
    abort.abort();
    await clock.advance(OP_CANCEL_GRACE_MS);
    expect((await settled).opErrorCode).toBe("cancelled");
  });

  it("fails everything in flight on a connection that closed, and only that", async () => {
    const { broker, channel } = setup();
    const other = new RecordingChannel("h2", 2);
    const first = rejectionOf(broker.request(channel, { kind: "image.list" }));
    const second = rejectionOf(broker.request(channel, { kind: "image.list" }));
    void broker.request(other, { kind: "image.list" });
    broker.connectionClosed(1, "host h1 disconnected");
    for (const error of [await first, await second]) {
      expect(error.code).toBe("PRECONDITION_FAILED");
      expect(error.message).toBe("host h1 disconnected");
    }
    expect(broker.pendingCount()).toBe(1);
  });

  it("refuses invalid operations and timeouts before sending anything", async () => {
    const { broker, channel } = setup();
    const bad = await rejectionOf(broker.request(channel, { kind: "image.pull", image: "UPPER/Case" }));
    expect(bad.code).toBe("BAD_REQUEST");
    const badTimeout = await rejectionOf(broker.request(channel, { kind: "image.list" }, { timeoutMs: 0 }));
    expect(badTimeout.code).toBe("BAD_REQUEST");
    expect(channel.sent).toEqual([]);
  });

  it("reports a closed socket as offline", async () => {
    const { broker, channel } = setup();
    channel.open = false;
    const error = await rejectionOf(broker.request(channel, { kind: "image.list" }));
    expect(error.message).toBe("host h1 is offline");
    expect(error.code).toBe("PRECONDITION_FAILED");
  });

  it("chunks uploads into frames of at most 512 KiB, the last one final", async () => {
    const { broker, channel } = setup();
    const bytes = new Uint8Array(512 * 1024 * 2 + 10).map((_, i) => i % 251);
    await broker.upload(channel, "up-1", bytes);
    const chunks = channel.sent.filter((frame) => frame.type === "upload.chunk");
    expect(chunks.map((chunk) => [chunk.seq, chunk.final])).toEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);
    const joined = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data, "base64")));
    expect(joined.equals(Buffer.from(bytes))).toBe(true);
  });

  it("sends one empty final chunk for an empty upload", async () => {
    const { broker, channel } = setup();
    await broker.upload(channel, "up-2", new Uint8Array(0));
    expect(channel.sent).toEqual([{ type: "upload.chunk", uploadId: "up-2", seq: 0, data: "", final: true }]);
  });
});
