// Two central replicas on one database, a fake agent connected to replica A,
// and every one-off operation called through replica B: B finds A in the host
// row and central_replicas and forwards over `/internal/agent-ops`, streaming
// the progress back. Builds take their context from the replica that received
// the upload. The internal endpoint refuses callers without the cluster
// secret, oversized and malformed bodies, and hosts it does not hold.
import { createHash, randomUUID } from "node:crypto";
import type { TOpRequestFrame, TUploadChunkFrame } from "@fleet/shared/protocol/server-to-agent";
import { MAX_FRAME_BYTES } from "@fleet/shared/protocol/version";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent, type TFakeOpAnswer } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { readClusterSecret } from "../db/cluster-secret";
import { createEventBus } from "../events/event-bus";
import { JOB_CANCEL_PATH, JOB_WATCH_PATH } from "../routed-image-jobs";
import type { AppRouter } from "../routers/_app";
import { createSseTestClient, recordSubscription } from "../routers/event/testing/sse-test-client";
import { followContainerLogs } from "../services/container/logs-follow-container";
import { buildImage, type TBuildProgress } from "../services/image/build-image";
import { pullImage, type TPullProgress } from "../services/image/pull-image";
import { createContainer } from "../services/metrics/testing/metrics-fixtures";
import { createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer, trpcErrorCode } from "../testing/test-server";
import { UPLOADS_PATH } from "../uploads";
import { OpError } from "./op-broker";
import {
  AGENT_OPS_PATH,
  AGENT_UPLOAD_PATH,
  CLUSTER_SECRET_HEADER,
  MAX_OPS_BODY_BYTES,
  UPLOAD_TAKE_PATH,
} from "./replica-calls";

const imageIdOf = (seed: string | Buffer) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;
const silent = pino({ level: "silent" });

describe("one-off operations through the replica that does not hold the host", () => {
  const database = useTestDatabase();
  let a: TestServer;
  let b: TestServer;
  let agent: FakeAgent;
  let secret: Buffer;
  let operator: { userId: string; email: string; token: string };
  let otherOperator: { userId: string; email: string; token: string };
  /** Every operation the agent was asked for, in order. */
  const requests: TOpRequestFrame[] = [];
  /** Follows the agent keeps open: answered by the test. */
  const follows: TOpRequestFrame[] = [];

  function answer(request: TOpRequestFrame): TFakeOpAnswer {
    requests.push(request);
    const op = request.op;
    switch (op.kind) {
      case "logs":
        if (op.follow) {
          follows.push(request);
          return { ignore: true };
        }
        return {
          ok: true,
          result: {
            lines: [{ stream: "stdout", line: "hello from A's agent", ts: 1_700_000_000_000 }],
            truncated: false,
          },
        };
      case "image.pull":
        // Held until cancelled.
        if (op.image.includes("/slow:")) return { ignore: true };
        return {
          ok: true,
          progress: [
            { kind: "progress", status: "Pulling fs layer", id: "layer1" },
            { kind: "progress", status: "Downloading", id: "layer1", current: 512, total: 1024 },
            { kind: "progress", status: "Pull complete", id: "layer1" },
          ],
          result: { digest: `sha256:${"a".repeat(64)}` },
        };
      case "image.list":
        return { ok: true, result: { images: [] } };
      case "volume.list":
        return { ok: true, result: { volumes: [] } };
      case "network.list":
        return { ok: true, result: { networks: [] } };
      case "volume.create":
        return {
          ok: true,
          result: {
            volume: { name: op.name, driver: "local", createdAt: null, sizeBytes: null, labels: {} },
          },
        };
      case "image.build": {
        const chunks = agent.frames.filter(
          (frame): frame is TUploadChunkFrame =>
            frame.type === "upload.chunk" && frame.uploadId === op.uploadId,
        );
        const context = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data, "base64")));
        return {
          ok: true,
          progress: [
            { kind: "output", line: `context ${context.byteLength} bytes in ${chunks.length} chunks` },
          ],
          result: { imageId: imageIdOf(context) },
        };
      }
      default:
        return { ok: false, code: "unsupported", message: `${op.kind} is not faked here` };
    }
  }

  /** The rows routing reads: each replica's address with a fresh heartbeat (the registry writes them too). */
  async function registerReplicas(): Promise<void> {
    for (const server of [a, b]) {
      const { id, internalUrl } = server.fleet.services.replica;
      await a.db.$executeRaw`
        INSERT INTO central_replicas (id, internal_url, version) VALUES (${id}, ${internalUrl}, 'test')
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), internal_url = EXCLUDED.internal_url`;
    }
  }

  beforeAll(async () => {
    a = await startTestServer({
      databaseUrl: database().url,
      env: { FLEET_REPLICA_ID: "replica-a" },
      bus: createEventBus(),
    });
    b = await startTestServer({
      databaseUrl: database().url,
      env: { FLEET_REPLICA_ID: "replica-b" },
      bus: createEventBus(),
    });
    await registerReplicas();
    secret = await readClusterSecret(a.db);
    const admin = await createTestUserWithToken({ db: a.db, role: "admin" });
    operator = await createTestUserWithToken({ db: a.db, role: "operator" });
    otherOperator = await createTestUserWithToken({ db: a.db, role: "operator" });
    const { token } = await createTestClient(a.url, { bearer: admin.token }).joinToken.create.mutate({});
    agent = await connectFakeAgent({
      url: a.url,
      joinToken: token,
      name: `held-by-a-${randomUUID().slice(0, 6)}`,
      answerOp: answer,
    });
    // The welcome names the replica in the host row: what B routes by.
    await eventually(
      "the host row names replica A",
      async () => (await a.db.host.findUniqueOrThrow({ where: { id: agent.hostId } })).connectedReplica,
      (replica) => replica === "replica-a",
    );
    expect(a.fleet.services.gateway.isConnected(agent.hostId)).toBe(true);
    expect(b.fleet.services.gateway.isConnected(agent.hostId)).toBe(false);
  });

  beforeEach(async () => {
    await registerReplicas();
  });

  afterAll(async () => {
    await agent?.close().catch(() => {});
    await b?.close();
    await a?.close();
  });

  const client = (server: TestServer, bearer = operator.token) => createTestClient(server.url, { bearer });

  function internalCall(
    server: TestServer,
    path: string,
    body: BodyInit,
    headers: Record<string, string> = { [CLUSTER_SECRET_HEADER]: secret.toString("utf8") },
  ): Promise<Response> {
    return fetch(`${server.url}${path}`, { method: "POST", headers, body });
  }

  test("both replicas share one cluster secret, made once", async () => {
    expect(secret.byteLength).toBeGreaterThanOrEqual(32);
    expect(await readClusterSecret(b.db)).toEqual(secret);
    expect(await a.db.clusterSecret.count()).toBe(1);
    expect(await b.fleet.services.clusterSecret()).toEqual(secret);
  });

  test("B knows A holds the host; a host held by no live replica is offline", async () => {
    expect(await b.fleet.services.agents.isConnected(agent.hostId)).toBe(true);
    expect(await b.fleet.services.agents.isConnected(randomUUID())).toBe(false);
  });

  test("container.logs through B: the tail comes from A's agent", async () => {
    const containerId = await createContainer(a.db, agent.hostId);
    const answer = await client(b).container.logs.query({ id: containerId, tail: 7 });
    expect(answer).toEqual({
      lines: [{ stream: "stdout", line: "hello from A's agent", ts: new Date(1_700_000_000_000) }],
      truncated: false,
    });
    expect(requests.at(-1)?.op).toMatchObject({ kind: "logs", containerId, tail: 7, follow: false });
  });

  test("a log follow through B streams the lines and is cancelled when the reader stops", async () => {
    const containerId = await createContainer(a.db, agent.hostId);
    const reader = new AbortController();
    const followed = followContainerLogs({
      db: b.db,
      gateway: b.fleet.services.agents,
      containerId,
      tail: 0,
      signal: reader.signal,
    });
    const first = followed.next();
    const found = await eventually(
      "the follow reaches A's agent",
      async () => follows.find((each) => each.op.kind === "logs" && each.op.containerId === containerId),
      Boolean,
    );
    const request = found as TOpRequestFrame;
    const ts = 1_700_000_001_000;
    for (const line of ["one", "two", "three"]) {
      agent.send({ type: "op.progress", id: request.id, data: { kind: "log", stream: "stdout", line, ts } });
    }
    const lines: string[] = [];
    for (let next = await first; !next.done; next = await followed.next()) {
      lines.push(next.value.line.line);
      if (lines.length === 3) break;
    }
    expect(lines).toEqual(["one", "two", "three"]);
    // The reader went away: B closes its call, A cancels the operation on the agent.
    reader.abort();
    await followed.return(undefined);
    const cancel = await agent.waitFor("op.cancel", (frame) => frame.id === request.id, 10_000);
    expect(cancel.id).toBe(request.id);
  });

  test("an image pull through B reports the agent's progress", async () => {
    const progress: TPullProgress[] = [];
    for await (const entry of pullImage({
      db: b.db,
      gateway: b.fleet.services.agents,
      bus: b.fleet.services.bus,
      log: silent,
      now: () => new Date(),
      image: "127.0.0.1:5000/fleet/busybox:1.36",
      target: { hostIds: [agent.hostId] },
      actorEmail: operator.email,
    })) {
      progress.push(entry);
    }
    expect(progress.map((entry) => entry.status)).toEqual([
      "requested",
      "Pulling fs layer",
      "Downloading",
      "Pull complete",
      "pulled",
    ]);
    expect(progress.find((entry) => entry.status === "Downloading")).toMatchObject({
      layer: "layer1",
      current: 512,
      total: 1024,
    });
    expect(progress.at(-1)).toMatchObject({ done: true, digest: `sha256:${"a".repeat(64)}` });
  });

  test("a pull started on B is watched, and cancelled, through A; another user sees no such job", async () => {
    const started = await client(b).image.pull.mutate({
      image: "127.0.0.1:5000/fleet/app:2",
      hostIds: [agent.hostId],
    });
    expect(started.jobId).toMatch(/^job_[0-9a-f]{12}_[A-Za-z0-9_-]+$/);
    const watcher = createSseTestClient<AppRouter>(a.url, operator.token);
    const watched = recordSubscription<TPullProgress>((handlers) =>
      watcher.image.watchPull.subscribe({ jobId: started.jobId }, handlers),
    );
    await watched.waitForEnd(15_000);
    expect(watched.items.map((item) => item.data.status)).toEqual([
      "requested",
      "Pulling fs layer",
      "Downloading",
      "Pull complete",
      "pulled",
    ]);
    // Resumed after the third message, as a client reconnecting with its last event id.
    const resumed = recordSubscription<TPullProgress>((handlers) =>
      watcher.image.watchPull.subscribe({ jobId: started.jobId, lastEventId: "3" }, handlers),
    );
    await resumed.waitForEnd(15_000);
    expect(resumed.items.map((item) => item.data.status)).toEqual(["Pull complete", "pulled"]);

    const stranger = createSseTestClient<AppRouter>(a.url, otherOperator.token);
    const theirs = recordSubscription((handlers) =>
      stranger.image.watchPull.subscribe({ jobId: started.jobId }, handlers),
    );
    await expect(theirs.waitForEnd()).rejects.toThrow(`no job ${started.jobId}`);
    theirs.unsubscribe();
    const cancelledByStranger = await client(a, otherOperator.token)
      .image.cancelJob.mutate({ jobId: started.jobId })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(cancelledByStranger)).toBe("NOT_FOUND");

    const slow = await client(b).image.pull.mutate({
      image: "127.0.0.1:5000/fleet/slow:1",
      hostIds: [agent.hostId],
    });
    const held = await eventually(
      "the slow pull reaches the agent",
      async () => requests.find((each) => each.op.kind === "image.pull" && each.op.image.includes("/slow:")),
      Boolean,
    );
    const following = recordSubscription<TPullProgress>((handlers) =>
      watcher.image.watchPull.subscribe({ jobId: slow.jobId }, handlers),
    );
    expect(await client(a).image.cancelJob.mutate({ jobId: slow.jobId })).toEqual({ cancelled: true });
    await agent.waitFor("op.cancel", (frame) => frame.id === held?.id, 10_000);
    await following.waitForEnd(15_000);
    expect(following.items.at(-1)?.data).toMatchObject({ status: "failed", done: true, error: "cancelled" });
    expect(await client(a).image.cancelJob.mutate({ jobId: slow.jobId })).toEqual({ cancelled: false });
  });

  test("volume.create through B creates it on A's agent and stores it", async () => {
    const created = await client(b).volume.create.mutate({ hostId: agent.hostId, name: "data-via-b" });
    expect(created.volume).toMatchObject({ name: "data-via-b", hostId: agent.hostId });
    expect(requests.some((each) => each.op.kind === "volume.create" && each.op.name === "data-via-b")).toBe(
      true,
    );
  });

  test("a build through B takes its context from A, where it was uploaded, and sends it to the agent", async () => {
    // Larger than one upload chunk (512 KiB): the context crosses in several.
    const context = Buffer.alloc(1300 * 1024, 7);
    const response = await fetch(`${a.url}${UPLOADS_PATH}`, {
      method: "POST",
      headers: { authorization: `Bearer ${operator.token}`, "content-type": "application/x-tar" },
      body: new Uint8Array(context),
    });
    expect(response.status).toBe(201);
    const { uploadId } = (await response.json()) as { uploadId: string };
    expect(a.fleet.services.uploads.heldBytes(operator.userId)).toBe(context.byteLength);

    // Another user's build cannot take it, from either replica.
    const stolen = await client(b, otherOperator.token)
      .image.build.mutate({ hostId: agent.hostId, tag: "fleet/stolen:1", uploadId })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(stolen)).toBe("NOT_FOUND");
    const take = await internalCall(
      a,
      UPLOAD_TAKE_PATH,
      JSON.stringify({ uploadId, userId: otherOperator.userId }),
    );
    expect(take.status).toBe(404);
    expect(a.fleet.services.uploads.heldBytes(operator.userId)).toBe(context.byteLength);

    const output: TBuildProgress[] = [];
    for await (const entry of buildImage({
      db: b.db,
      gateway: b.fleet.services.agents,
      bus: b.fleet.services.bus,
      log: silent,
      now: () => new Date(),
      uploads: b.fleet.services.uploads,
      hostId: agent.hostId,
      tag: "fleet/built-via-b:1",
      uploadId,
      userId: operator.userId,
      actorEmail: operator.email,
    })) {
      output.push(entry);
    }
    expect(output.at(-1)).toEqual({ type: "built", imageId: imageIdOf(context) });
    expect(output).toContainEqual({
      type: "output",
      line: `context ${context.byteLength} bytes in 3 chunks`,
    });
    // Used up on A, where it was held.
    expect(a.fleet.services.uploads.heldBytes(operator.userId)).toBe(0);
    const again = await client(b)
      .image.build.mutate({ hostId: agent.hostId, tag: "fleet/again:1", uploadId })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(again)).toBe("NOT_FOUND");
  });

  test("the agent's own refusal reads the same through B as on A", async () => {
    const local = await a.fleet.services.agents
      .request(agent.hostId, { kind: "network.create", name: "nope" })
      .catch((error: unknown) => error);
    const routed = await b.fleet.services.agents
      .request(agent.hostId, { kind: "network.create", name: "nope" })
      .catch((error: unknown) => error);
    expect(routed).toBeInstanceOf(OpError);
    expect(routed).toMatchObject({
      code: (local as OpError).code,
      opErrorCode: "unsupported",
      message: (local as OpError).message,
    });
    const invalid = await b.fleet.services.agents
      .request(agent.hostId, { kind: "volume.create", name: "" })
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({ opErrorCode: "invalid", code: "BAD_REQUEST" });
  });

  test("a host whose replica stopped beating is offline from B", async () => {
    const ghost = await a.db.host.create({
      data: { name: `ghost-${randomUUID().slice(0, 6)}`, status: "online", connectedReplica: "replica-gone" },
    });
    await a.db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version, heartbeat_at)
      VALUES ('replica-gone', 'http://127.0.0.1:9', 'test', now() - interval '1 minute')`;
    expect(await b.fleet.services.agents.isConnected(ghost.id)).toBe(false);
    const error = await b.fleet.services.agents
      .request(ghost.id, { kind: "image.list" })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ opErrorCode: "offline", message: `host ${ghost.id} is offline` });

    // Beating, but not answering on its address (killed a moment ago): offline too, and said why.
    await a.db.$executeRaw`
      INSERT INTO central_replicas (id, internal_url, version) VALUES ('replica-dead', 'http://127.0.0.1:9', 'test')`;
    await a.db.host.update({ where: { id: ghost.id }, data: { connectedReplica: "replica-dead" } });
    const silent = await b.fleet.services.agents
      .request(ghost.id, { kind: "image.list" })
      .catch((caught: unknown) => caught);
    expect(silent).toMatchObject({
      opErrorCode: "offline",
      message: `host ${ghost.id} is offline: its central replica replica-dead does not answer`,
    });
  });

  test("a host row naming a replica that no longer holds it: not-here, read again, offline", async () => {
    const moved = await a.db.host.create({
      data: { name: `moved-${randomUUID().slice(0, 6)}`, status: "online", connectedReplica: "replica-a" },
    });
    const error = await b.fleet.services.agents
      .request(moved.id, { kind: "image.list" })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ opErrorCode: "offline", message: `host ${moved.id} is offline` });
  });

  describe("the internal endpoint refuses", () => {
    const opsBody = () => JSON.stringify({ hostId: agent.hostId, op: { kind: "image.list" } });

    test("callers without the cluster secret, before anything runs", async () => {
      const before = requests.length;
      const wrongSameLength = Buffer.from(secret);
      wrongSameLength[0] = wrongSameLength[0] === 65 ? 66 : 65;
      const refusedHeaders: Record<string, string>[] = [
        {},
        { [CLUSTER_SECRET_HEADER]: wrongSameLength.toString("utf8") },
        { [CLUSTER_SECRET_HEADER]: `${secret.toString("utf8")}x` },
        { [CLUSTER_SECRET_HEADER]: "short" },
        { [CLUSTER_SECRET_HEADER]: "x".repeat(5000) },
      ];
      for (const headers of refusedHeaders) {
        const ops = await internalCall(a, AGENT_OPS_PATH, opsBody(), headers);
        expect(ops.status).toBe(401);
        const upload = await internalCall(
          a,
          `${AGENT_UPLOAD_PATH}?hostId=${agent.hostId}&uploadId=up_x`,
          new Uint8Array(16),
          headers,
        );
        expect(upload.status).toBe(401);
        const take = await internalCall(
          a,
          UPLOAD_TAKE_PATH,
          JSON.stringify({ uploadId: "up_x", userId: "u" }),
          headers,
        );
        expect(take.status).toBe(401);
        for (const path of [JOB_WATCH_PATH, JOB_CANCEL_PATH, "/internal/nothing"]) {
          expect((await internalCall(a, path, "{}", headers)).status, path).toBe(401);
        }
      }
      expect(requests.length).toBe(before);
      expect(
        agent.frames.filter((frame) => frame.type === "upload.chunk" && frame.uploadId === "up_x"),
      ).toEqual([]);
    });

    test("an oversized body (413), a malformed operation (400), a host not held here (404 not-here)", async () => {
      const before = requests.length;
      const huge = JSON.stringify({
        hostId: agent.hostId,
        op: { kind: "image.list" },
        pad: "x".repeat(MAX_OPS_BODY_BYTES),
      });
      expect((await internalCall(a, AGENT_OPS_PATH, huge)).status).toBe(413);
      // Without a declared length (chunked), counted as it arrives.
      const chunked = new ReadableStream({
        start(controller) {
          for (let sent = 0; sent <= MAX_FRAME_BYTES; sent += 64 * 1024)
            controller.enqueue(new Uint8Array(64 * 1024));
          controller.close();
        },
      });
      const streamed = await fetch(`${a.url}${AGENT_OPS_PATH}`, {
        method: "POST",
        headers: { [CLUSTER_SECRET_HEADER]: secret.toString("utf8") },
        body: chunked,
        duplex: "half",
      } as RequestInit);
      expect(streamed.status).toBe(413);

      for (const body of [
        "not json",
        JSON.stringify({ hostId: agent.hostId, op: { kind: "rm -rf /" } }),
        JSON.stringify({ hostId: agent.hostId, op: { kind: "volume.create", name: "../etc" } }),
        JSON.stringify({ hostId: agent.hostId, op: { kind: "image.list" }, timeoutMs: -1 }),
        JSON.stringify({ hostId: agent.hostId, op: { kind: "image.list" }, timeoutMs: 10 * 24 * 3600_000 }),
        JSON.stringify({ hostId: "", op: { kind: "image.list" } }),
        JSON.stringify({ hostId: agent.hostId, op: { kind: "image.list" }, extra: 1 }),
      ]) {
        const response = await internalCall(a, AGENT_OPS_PATH, body);
        expect(response.status, body).toBe(400);
      }
      for (const body of [
        JSON.stringify({ jobId: "job_x", kind: "pull", caller: { userId: "u" }, after: 0 }),
        JSON.stringify({ jobId: "job_x", kind: "push", caller: { userId: "u", admin: true }, after: 0 }),
        JSON.stringify({ jobId: "job_x", kind: "pull", caller: { userId: "u", admin: false }, after: -1 }),
      ]) {
        expect((await internalCall(a, JOB_WATCH_PATH, body)).status, body).toBe(400);
      }
      const unknownJob = await internalCall(
        a,
        JOB_WATCH_PATH,
        JSON.stringify({
          jobId: "job_nothing",
          kind: "pull",
          caller: { userId: "u", admin: true },
          after: 0,
        }),
      );
      expect(unknownJob.status).toBe(404);
      // B does not hold the host: a forged call for it there runs nothing.
      const forged = await internalCall(b, AGENT_OPS_PATH, opsBody());
      expect(forged.status).toBe(404);
      expect(await forged.json()).toMatchObject({ error: { code: "not-here" } });
      const forgedUpload = await internalCall(
        b,
        `${AGENT_UPLOAD_PATH}?hostId=${agent.hostId}&uploadId=up_forged`,
        new Uint8Array(16),
      );
      expect(forgedUpload.status).toBe(404);
      expect(requests.length).toBe(before);
    });

    test("the right call runs and streams its result", async () => {
      const response = await internalCall(a, AGENT_OPS_PATH, opsBody());
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/x-ndjson");
      expect(
        (await response.text())
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ).toEqual([{ result: { images: [] } }]);
    });
  });

  test("measured: an operation through B against one on A", async () => {
    const time = async (server: TestServer) => {
      const samples: number[] = [];
      for (let i = 0; i < 30; i++) {
        const started = performance.now();
        await server.fleet.services.agents.request(agent.hostId, { kind: "image.list" });
        samples.push(performance.now() - started);
      }
      samples.sort((x, y) => x - y);
      return { p50: samples[15] ?? 0, p90: samples[27] ?? 0 };
    };
    const local = await time(a);
    const routed = await time(b);
    console.log(
      `image.list on A: p50 ${local.p50.toFixed(1)} ms, p90 ${local.p90.toFixed(1)} ms; through B: p50 ${routed.p50.toFixed(1)} ms, p90 ${routed.p90.toFixed(1)} ms`,
    );
    expect(routed.p50).toBeLessThan(500);
  });
});
