import { hashContainerSpec } from "@fleet/shared/domain/spec-hash";
import type { TOperationInput } from "@fleet/shared/protocol/operations";
import { ZOpRequestFrame } from "@fleet/shared/protocol/server-to-agent";
import { makeContainerSpec } from "@fleet/shared/protocol/test-factories";
import { flushAsync, ManualClock } from "@fleet/shared/testing/manual-clock";
import { beforeEach, describe, expect, it } from "vitest";
import { OperationRunner, type TOperationOutbound } from "./operations";
import { DriverError } from "./runtime/driver";
import { FakeDriver } from "./runtime/fake/fake-driver";
import { FakeEngine } from "./runtime/fake/fake-engine";
import { silentLogger } from "./testing/silent-logger";

interface Harness {
  clock: ManualClock;
  engine: FakeEngine;
  driver: FakeDriver;
  sent: TOperationOutbound[];
  runner: OperationRunner;
  engineIds: Map<string, string>;
  congested: { value: boolean };
}

function harness(limits: ConstructorParameters<typeof OperationRunner>[0]["limits"] = {}): Harness {
  const clock = new ManualClock();
  const engine = new FakeEngine({ now: () => new Date(clock.now()) });
  const driver = new FakeDriver(engine);
  const sent: TOperationOutbound[] = [];
  const engineIds = new Map<string, string>();
  const congested = { value: false };
  const runner = new OperationRunner({
    containers: driver.containers,
    images: driver.images,
    hostObjects: driver.hostObjects,
    engineIdOf: (id) => engineIds.get(id) ?? null,
    send: (frame) => {
      sent.push(frame);
      return true;
    },
    isCongested: () => congested.value,
    clock,
    log: silentLogger,
    limits,
  });
  return { clock, engine, driver, sent, runner, engineIds, congested };
}

function request(id: string, op: TOperationInput, timeoutMs = 30_000) {
  return ZOpRequestFrame.parse({ type: "op.request", id, timeoutMs, op });
}

function resultOf(h: Harness, id: string) {
  return h.sent.find((f) => f.type === "op.result" && f.id === id);
}

function progressOf(h: Harness, id: string) {
  return h.sent
    .filter((f) => f.type === "op.progress" && f.id === id)
    .map((f) => (f as { data: unknown }).data);
}

function seedContainer(h: Harness, containerId = "web-1"): string {
  const spec = makeContainerSpec({ id: containerId });
  const c = h.engine.seedContainer({ spec, hostId: "h1", specHash: hashContainerSpec(spec) });
  h.engineIds.set(containerId, c.engineId);
  return c.engineId;
}

describe("OperationRunner", () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  describe("agent.upgrade", () => {
    const upgrade = { kind: "agent.upgrade", sha256: "a".repeat(64), version: "1.2.3+abc1234" } as const;

    it("is unsupported where the agent cannot replace itself", async () => {
      h.runner.handleRequest(request("op-u1", upgrade));
      await flushAsync();
      expect(resultOf(h, "op-u1")).toMatchObject({ ok: false, error: { code: "unsupported" } });
    });

    it("hands the request to the agent's upgrade and answers with what it staged", async () => {
      const seen: unknown[] = [];
      const runner = new OperationRunner({
        containers: h.driver.containers,
        images: h.driver.images,
        hostObjects: h.driver.hostObjects,
        engineIdOf: () => null,
        send: (frame) => h.sent.push(frame) > 0,
        isCongested: () => false,
        clock: h.clock,
        log: silentLogger,
        upgrade: async (op) => {
          seen.push(op);
          return { bytes: 42 };
        },
      });
      runner.handleRequest(request("op-u2", upgrade));
      await flushAsync();
      expect(seen).toEqual([upgrade]);
      expect(resultOf(h, "op-u2")).toEqual({
        type: "op.result",
        id: "op-u2",
        ok: true,
        kind: "agent.upgrade",
        result: { bytes: 42 },
      });
    });

    it("the protocol refuses a sha256 that is not 64 lowercase hex digits", () => {
      expect(() => request("op-u3", { ...upgrade, sha256: "A".repeat(64) })).toThrow();
    });
  });

  describe("logs", () => {
    it("returns the tail of a container's log", async () => {
      const engineId = seedContainer(h);
      for (let i = 1; i <= 5; i++) h.engine.writeLog(engineId, i % 2 ? "stdout" : "stderr", `line ${i}`);
      h.runner.handleRequest(request("op-1", { kind: "logs", containerId: "web-1", tail: 3 }));
      await flushAsync();
      const result = resultOf(h, "op-1");
      expect(result).toMatchObject({ ok: true, kind: "logs", result: { truncated: false } });
      const lines = (result as { result: { lines: { line: string; stream: string; ts?: number }[] } }).result
        .lines;
      expect(lines.map((l) => l.line)).toEqual(["line 3", "line 4", "line 5"]);
      expect(lines[1]).toEqual({ stream: "stderr", line: "line 4", ts: h.clock.now() });
      expect(h.runner.activeCount).toBe(0);
    });

    it("keeps only the newest lines that fit one frame, and says so", async () => {
      h = harness({ logResultBudgetBytes: 300 });
      const engineId = seedContainer(h);
      for (let i = 1; i <= 20; i++) h.engine.writeLog(engineId, "stdout", `line number ${i}`);
      h.runner.handleRequest(request("op-1", { kind: "logs", containerId: "web-1", tail: 100 }));
      await flushAsync();
      const { result } = resultOf(h, "op-1") as { result: { lines: { line: string }[]; truncated: boolean } };
      expect(result.truncated).toBe(true);
      expect(result.lines.at(-1)?.line).toBe("line number 20");
      expect(result.lines.length).toBeLessThan(20);
      expect(JSON.stringify(result.lines).length).toBeLessThanOrEqual(300);
    });

    it("answers not_found for a container this host does not run", async () => {
      h.runner.handleRequest(request("op-1", { kind: "logs", containerId: "nope" }));
      await flushAsync();
      expect(resultOf(h, "op-1")).toEqual({
        type: "op.result",
        id: "op-1",
        ok: false,
        error: { code: "not_found", message: "no container nope on this host" },
      });
    });

    it("follows new lines as progress until cancelled, then answers ok", async () => {
      const engineId = seedContainer(h);
      h.engine.writeLog(engineId, "stdout", "old");
      h.runner.handleRequest(request("op-2", { kind: "logs", containerId: "web-1", tail: 1, follow: true }));
      await flushAsync();
      h.engine.writeLog(engineId, "stdout", "new 1");
      h.engine.writeLog(engineId, "stderr", "new 2");
      await flushAsync();
      expect(progressOf(h, "op-2").map((d) => (d as { line: string }).line)).toEqual([
        "old",
        "new 1",
        "new 2",
      ]);
      expect(resultOf(h, "op-2")).toBeUndefined();
      h.runner.handleCancel({ type: "op.cancel", id: "op-2" });
      await flushAsync();
      expect(resultOf(h, "op-2")).toMatchObject({ ok: true, result: { lines: [], truncated: false } });
      h.engine.writeLog(engineId, "stdout", "after cancel");
      await flushAsync();
      expect(progressOf(h, "op-2")).toHaveLength(3);
    });

    it("ends a follow when the container exits", async () => {
      const engineId = seedContainer(h);
      h.runner.handleRequest(request("op-3", { kind: "logs", containerId: "web-1", tail: 0, follow: true }));
      await flushAsync();
      h.engine.exit(engineId, { exitCode: 0 });
      await flushAsync();
      expect(resultOf(h, "op-3")).toMatchObject({ ok: true });
    });

    it("drops followed lines while the link is congested and says how many", async () => {
      const engineId = seedContainer(h);
      h.runner.handleRequest(request("op-4", { kind: "logs", containerId: "web-1", tail: 0, follow: true }));
      await flushAsync();
      h.congested.value = true;
      for (let i = 0; i < 3; i++) h.engine.writeLog(engineId, "stdout", `lost ${i}`);
      await flushAsync();
      h.congested.value = false;
      h.engine.writeLog(engineId, "stdout", "kept");
      await flushAsync();
      const lines = progressOf(h, "op-4").map((d) => (d as { line: string }).line);
      expect(lines).toEqual([
        "[fleet-agent] 3 log lines dropped: the link to the central is congested",
        "kept",
      ]);
    });
  });

  describe("images", () => {
    it("pulls with progress and answers the digest", async () => {
      h.runner.handleRequest(request("op-5", { kind: "image.pull", image: "127.0.0.1:5000/app:1" }));
      await flushAsync();
      expect(progressOf(h, "op-5")).toEqual([
        { kind: "progress", status: "Pulling from 127.0.0.1:5000/app:1" },
        { kind: "progress", status: "Download complete", id: "layer0", current: 1, total: 1 },
      ]);
      const result = resultOf(h, "op-5") as { ok: boolean; result: { digest: string } };
      expect(result.ok).toBe(true);
      expect(result.result.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(h.engine.images.has("127.0.0.1:5000/app:1")).toBe(true);
    });

    it("reports an engine failure in the engine's words", async () => {
      h.engine.failNextPull("127.0.0.1:5000/app:1", "manifest unknown");
      h.runner.handleRequest(request("op-6", { kind: "image.pull", image: "127.0.0.1:5000/app:1" }));
      await flushAsync();
      expect(resultOf(h, "op-6")).toMatchObject({ ok: false, error: { code: "engine" } });
      expect((resultOf(h, "op-6") as { error: { message: string } }).error.message).toMatch(
        /manifest unknown/,
      );
    });

    it("lists, removes and pushes images", async () => {
      h.engine.images.add("127.0.0.1:5000/a:1");
      h.runner.handleRequest(request("op-7", { kind: "image.list" }));
      await flushAsync();
      expect(resultOf(h, "op-7")).toMatchObject({
        ok: true,
        result: { images: [{ tags: ["127.0.0.1:5000/a:1"] }] },
      });

      h.runner.handleRequest(request("op-8", { kind: "image.push", image: "127.0.0.1:5000/a:1" }));
      await flushAsync();
      expect(resultOf(h, "op-8")).toMatchObject({ ok: true, kind: "image.push" });

      h.runner.handleRequest(request("op-9", { kind: "image.remove", image: "127.0.0.1:5000/a:1" }));
      await flushAsync();
      expect(resultOf(h, "op-9")).toMatchObject({
        ok: true,
        result: { untagged: ["127.0.0.1:5000/a:1"], deleted: [] },
      });
      expect(h.engine.images.size).toBe(0);

      h.runner.handleRequest(request("op-10", { kind: "image.remove", image: "127.0.0.1:5000/a:1" }));
      await flushAsync();
      expect(resultOf(h, "op-10")).toMatchObject({ ok: false, error: { code: "not_found" } });
    });

    it("builds from an uploaded context and streams the output", async () => {
      const context = Buffer.from("pretend this is a tar archive of a build context");
      const half = Math.floor(context.length / 2);
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "up-1",
        seq: 0,
        data: context.subarray(0, half).toString("base64"),
        final: false,
      });
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "up-1",
        seq: 1,
        data: context.subarray(half).toString("base64"),
        final: true,
      });
      expect(h.runner.uploadBytesHeld).toBe(context.length);
      h.runner.handleRequest(
        request("op-11", { kind: "image.build", tag: "127.0.0.1:5000/built:1", uploadId: "up-1" }),
      );
      await flushAsync();
      expect(progressOf(h, "op-11")).toEqual([
        { kind: "output", line: "Successfully tagged 127.0.0.1:5000/built:1" },
      ]);
      expect(resultOf(h, "op-11")).toMatchObject({
        ok: true,
        result: { imageId: expect.stringMatching(/^sha256:/) },
      });
      expect(h.engine.callsTo("buildImage")[0]?.args).toEqual([
        "127.0.0.1:5000/built:1",
        { dockerfile: "Dockerfile" },
      ]);
      expect(h.runner.uploadBytesHeld).toBe(0);
    });

    it("waits for the last chunk of an upload still arriving", async () => {
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "up-2",
        seq: 0,
        data: "YWJj",
        final: false,
      });
      h.runner.handleRequest(
        request("op-12", { kind: "image.build", tag: "127.0.0.1:5000/b:1", uploadId: "up-2" }),
      );
      await flushAsync();
      expect(resultOf(h, "op-12")).toBeUndefined();
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "up-2",
        seq: 1,
        data: "ZGVm",
        final: true,
      });
      await flushAsync();
      expect(resultOf(h, "op-12")).toMatchObject({ ok: true });
    });

    it("rejects an upload with a gap, past its size bound, or unknown", async () => {
      h = harness({ uploads: { maxTotalBytes: 4, idleTimeoutMs: 60_000 } });
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "gap",
        seq: 0,
        data: "YQ==",
        final: false,
      });
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "gap",
        seq: 2,
        data: "YQ==",
        final: true,
      });
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "big",
        seq: 0,
        data: "YWJjZGVmZ2g=",
        final: true,
      });
      const errors = h.sent.filter((f) => f.type === "error");
      expect(errors.map((e) => (e as { ref?: string }).ref)).toEqual(["gap", "big"]);
      expect((errors[0] as { message: string }).message).toMatch(/expected chunk 1, got 2/);
      expect((errors[1] as { message: string }).message).toMatch(/at most 4 bytes/);

      h.runner.handleRequest(
        request("op-13", { kind: "image.build", tag: "127.0.0.1:5000/b:1", uploadId: "gap" }),
      );
      h.runner.handleRequest(
        request("op-14", { kind: "image.build", tag: "127.0.0.1:5000/b:1", uploadId: "none" }),
      );
      await flushAsync();
      expect(resultOf(h, "op-13")).toMatchObject({ ok: false, error: { code: "invalid" } });
      expect(resultOf(h, "op-14")).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(h.runner.uploadBytesHeld).toBe(0);
    });

    it("forgets an upload nobody builds from", async () => {
      h.runner.handleUploadChunk({
        type: "upload.chunk",
        uploadId: "idle",
        seq: 0,
        data: "YWJj",
        final: true,
      });
      expect(h.runner.uploadBytesHeld).toBe(3);
      await h.clock.advance(5 * 60_000);
      expect(h.runner.uploadBytesHeld).toBe(0);
    });
  });

  describe("volumes and networks", () => {
    it("creates, lists and removes a volume; refuses one in use with conflict", async () => {
      h.runner.handleRequest(request("v-1", { kind: "volume.create", name: "data" }));
      await flushAsync();
      expect(resultOf(h, "v-1")).toMatchObject({
        ok: true,
        kind: "volume.create",
        result: { volume: { name: "data", driver: "local", sizeBytes: 0 } },
      });
      h.runner.handleRequest(request("v-2", { kind: "volume.list" }));
      await flushAsync();
      expect(resultOf(h, "v-2")).toMatchObject({ ok: true, result: { volumes: [{ name: "data" }] } });

      const spec = makeContainerSpec({
        id: "db-1",
        mounts: [{ type: "volume", source: "data", target: "/var/lib/db", readOnly: false }],
      });
      h.engine.seedContainer({ spec, hostId: "h1", specHash: hashContainerSpec(spec), running: false });
      h.runner.handleRequest(request("v-3", { kind: "volume.remove", name: "data" }));
      await flushAsync();
      expect(resultOf(h, "v-3")).toMatchObject({ ok: false, error: { code: "conflict" } });
      expect((resultOf(h, "v-3") as { error: { message: string } }).error.message).toMatch(/in use/);

      h.engine.containers.clear();
      h.runner.handleRequest(request("v-4", { kind: "volume.remove", name: "data" }));
      await flushAsync();
      expect(resultOf(h, "v-4")).toMatchObject({ ok: true, kind: "volume.remove", result: { name: "data" } });
      h.runner.handleRequest(request("v-5", { kind: "volume.remove", name: "data" }));
      await flushAsync();
      expect(resultOf(h, "v-5")).toMatchObject({ ok: false, error: { code: "not_found" } });
    });

    it("creates, lists and removes a network; a duplicate or one in use is a conflict", async () => {
      h.runner.handleRequest(request("n-1", { kind: "network.create", name: "backend", internal: true }));
      await flushAsync();
      expect(resultOf(h, "n-1")).toMatchObject({
        ok: true,
        kind: "network.create",
        result: { network: { name: "backend", driver: "bridge", internal: true } },
      });
      h.runner.handleRequest(request("n-2", { kind: "network.create", name: "backend" }));
      await flushAsync();
      expect(resultOf(h, "n-2")).toMatchObject({ ok: false, error: { code: "conflict" } });

      const spec = makeContainerSpec({ id: "api-1", networks: ["backend"] });
      h.engine.seedContainer({ spec, hostId: "h1", specHash: hashContainerSpec(spec) });
      h.runner.handleRequest(request("n-3", { kind: "network.list" }));
      await flushAsync();
      expect(resultOf(h, "n-3")).toMatchObject({ ok: true, result: { networks: [{ name: "backend" }] } });
      h.runner.handleRequest(request("n-4", { kind: "network.remove", name: "backend" }));
      await flushAsync();
      expect(resultOf(h, "n-4")).toMatchObject({ ok: false, error: { code: "conflict" } });

      h.engine.containers.clear();
      h.runner.handleRequest(request("n-5", { kind: "network.remove", name: "backend" }));
      await flushAsync();
      expect(resultOf(h, "n-5")).toMatchObject({ ok: true, result: { name: "backend" } });
    });

    it("leaves out of a list what does not fit the protocol instead of failing it", async () => {
      h.engine.volumes.set("ok-volume", {
        name: "ok-volume",
        driver: "local",
        createdAt: null,
        sizeBytes: null,
        labels: {},
      });
      // An engine may hold a volume named outside Fleet's rule (made by hand); it is not listed.
      h.engine.volumes.set("x", { name: "x", driver: "local", createdAt: null, sizeBytes: null, labels: {} });
      h.runner.handleRequest(request("v-6", { kind: "volume.list" }));
      await flushAsync();
      const result = resultOf(h, "v-6") as { ok: boolean; result: { volumes: Array<{ name: string }> } };
      expect(result.result.volumes.map((v) => v.name)).toEqual(["ok-volume"]);
    });
  });

  it("answers timeout when an operation outlives its timeout", async () => {
    h.runner.handleUploadChunk({
      type: "upload.chunk",
      uploadId: "slow",
      seq: 0,
      data: "YWJj",
      final: false,
    });
    h.runner.handleRequest(
      request("op-15", { kind: "image.build", tag: "127.0.0.1:5000/b:1", uploadId: "slow" }, 1000),
    );
    await h.clock.advance(999);
    expect(resultOf(h, "op-15")).toBeUndefined();
    await h.clock.advance(1);
    expect(resultOf(h, "op-15")).toMatchObject({ ok: false, error: { code: "timeout" } });
    expect(h.runner.activeCount).toBe(0);
  });

  it("answers cancelled when a non-streaming operation is cancelled", async () => {
    h.runner.handleUploadChunk({
      type: "upload.chunk",
      uploadId: "slow",
      seq: 0,
      data: "YWJj",
      final: false,
    });
    h.runner.handleRequest(
      request("op-16", { kind: "image.build", tag: "127.0.0.1:5000/b:1", uploadId: "slow" }),
    );
    await flushAsync();
    h.runner.handleCancel({ type: "op.cancel", id: "op-16" });
    await flushAsync();
    expect(resultOf(h, "op-16")).toMatchObject({ ok: false, error: { code: "cancelled" } });
  });

  it("maps a driver's not-found to not_found and other driver errors to engine", async () => {
    h.engine.failNext("listImages", new DriverError("unavailable", "engine socket refused the connection"));
    h.runner.handleRequest(request("op-17", { kind: "image.list" }));
    await flushAsync();
    expect(resultOf(h, "op-17")).toMatchObject({
      ok: false,
      error: { code: "engine", message: "engine socket refused the connection" },
    });
  });

  it("refuses a second operation with an id in use, and too many at once", async () => {
    h = harness({ maxConcurrent: 1 });
    const engineId = seedContainer(h);
    h.runner.handleRequest(request("op-a", { kind: "logs", containerId: "web-1", follow: true, tail: 0 }));
    h.runner.handleRequest(request("op-a", { kind: "image.list" }));
    h.runner.handleRequest(request("op-b", { kind: "image.list" }));
    await flushAsync();
    expect(h.sent.find((f) => f.type === "error")).toMatchObject({ code: "bad_frame", ref: "op-a" });
    expect(resultOf(h, "op-b")).toMatchObject({ ok: false, error: { code: "unsupported" } });
    h.engine.exit(engineId, { exitCode: 0 });
    await flushAsync();
    expect(resultOf(h, "op-a")).toMatchObject({ ok: true });
  });

  it("aborts everything when the connection is lost", async () => {
    seedContainer(h);
    h.runner.handleRequest(request("op-c", { kind: "logs", containerId: "web-1", follow: true, tail: 0 }));
    h.runner.handleUploadChunk({ type: "upload.chunk", uploadId: "u", seq: 0, data: "YWJj", final: false });
    await flushAsync();
    h.runner.abortAll();
    await flushAsync();
    expect(h.runner.activeCount).toBe(0);
    expect(h.runner.uploadBytesHeld).toBe(0);
  });
});
