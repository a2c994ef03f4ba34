// container.logs and container.logsFollow over real HTTP and SSE, against a
// real central whose agents are protocol-level fakes on real WebSockets.
// The procedures are served by a router of their own (same builder, same
// context as the app server's) so this file does not depend on how the
// container router around them is assembled.
import { createServer, type Server } from "node:http";
import type { TOpRequestFrame } from "@fleet/shared/protocol/server-to-agent";
import { connectFakeAgent, type FakeAgent, type FakeAgentOptions } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { TRPCClientError } from "@trpc/client";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { createContainer } from "../../services/metrics/testing/metrics-fixtures";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";
import { createContextFactory, router } from "../../trpc";
import { createSseTestClient, recordSubscription } from "../event/testing/sse-test-client";
import { logs } from "./logs";
import { logsFollow } from "./logs-follow";

const testRouter = router({ container: router({ logs, logsFollow }) });
type TestRouter = typeof testRouter;
type TLine = { stream: "stdout" | "stderr"; line: string; ts: Date | null };

describe("container logs", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let api: Server;
  let apiUrl: string;
  let viewer: ReturnType<typeof createSseTestClient<TestRouter>>;
  let admin: ReturnType<typeof createTestClient>;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    const handler = createHTTPHandler({
      router: testRouter,
      basePath: "/api/trpc/",
      createContext: createContextFactory(server.fleet.services),
    });
    api = createServer((req, res) => handler(req, res));
    apiUrl = `http://127.0.0.1:${await listenBelowEphemeralRange(api)}`;
    const { token } = await createTestUserWithToken({ db: server.db, role: "viewer" });
    viewer = createSseTestClient<TestRouter>(apiUrl, token);
    admin = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    });
  });
  afterAll(async () => {
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
    await server?.close();
  });

  async function join(name: string, answerOp?: FakeAgentOptions["answerOp"]): Promise<FakeAgent> {
    const { token } = await admin.joinToken.create.mutate({});
    // Only `logs` reaches the test's answers: the central also reads a new host's volumes and networks.
    const logsOnly: FakeAgentOptions["answerOp"] = (request) =>
      request.op.kind === "logs" && answerOp
        ? answerOp(request)
        : { ok: false, code: "unsupported", message: "this fake agent only answers logs" };
    return connectFakeAgent({
      url: server.url,
      joinToken: token,
      name,
      ...(answerOp ? { answerOp: logsOnly } : {}),
    });
  }

  const codeOf = (error: unknown) =>
    error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;

  test("container.logs returns the agent's tail and says what it asked for", async () => {
    const requests: TOpRequestFrame[] = [];
    const agent = await join("logs-tail", (request) => {
      requests.push(request);
      return {
        ok: true,
        result: {
          lines: [
            { stream: "stdout", line: "starting", ts: 1_700_000_000_000 },
            { stream: "stderr", line: "warning: low memory" },
          ],
          truncated: true,
        },
      };
    });
    const containerId = await createContainer(server.db, agent.hostId);

    const answer = await viewer.container.logs.query({ id: containerId });
    expect(answer).toEqual({
      lines: [
        { stream: "stdout", line: "starting", ts: new Date(1_700_000_000_000) },
        { stream: "stderr", line: "warning: low memory", ts: null },
      ],
      truncated: true,
    });
    expect(requests[0]?.op).toEqual({
      kind: "logs",
      containerId,
      tail: 200,
      follow: false,
      stdout: true,
      stderr: true,
    });

    await viewer.container.logs.query({
      id: containerId,
      tail: 5,
      stdout: false,
      since: new Date(1_700_000_000_500),
    });
    expect(requests[1]?.op).toMatchObject({ tail: 5, stdout: false, stderr: true, since: 1_700_000_000_500 });

    await expect(viewer.container.logs.query({ id: containerId, tail: 10_001 })).rejects.toSatisfy(
      (error) => codeOf(error) === "BAD_REQUEST",
    );
    await expect(
      viewer.container.logs.query({ id: containerId, stdout: false, stderr: false }),
    ).rejects.toThrow("stdout: ask for stdout, stderr or both");
    await agent.close();
  });

  test("clear errors: unknown container, no host yet, host offline, the agent's own refusal", async () => {
    await expect(viewer.container.logs.query({ id: "no-such-container" })).rejects.toThrow(
      "no container with id no-such-container",
    );

    const pending = await createContainer(server.db, null, { actualState: "pending" });
    const noHost = await viewer.container.logs.query({ id: pending }).catch((error: unknown) => error);
    expect(codeOf(noHost)).toBe("PRECONDITION_FAILED");
    expect((noHost as Error).message).toMatch(/has no host yet \(it is pending\)/);

    const offlineHost = await createTestHost(server.db, { name: "h1", status: "offline" });
    const onOffline = await createContainer(server.db, offlineHost.id);
    const offline = await viewer.container.logs.query({ id: onOffline }).catch((error: unknown) => error);
    expect(codeOf(offline)).toBe("PRECONDITION_FAILED");
    expect((offline as Error).message).toBe("host h1 is offline");
    const followOffline = recordSubscription((handlers) =>
      viewer.container.logsFollow.subscribe({ id: onOffline }, handlers),
    );
    await expect(followOffline.waitForEnd()).rejects.toThrow("host h1 is offline");
    followOffline.unsubscribe();

    const agent = await join("logs-refuses", () => ({
      ok: false,
      code: "not_found",
      message: "no container c on this host",
    }));
    const gone = await createContainer(server.db, agent.hostId);
    const refused = await viewer.container.logs.query({ id: gone }).catch((error: unknown) => error);
    expect(codeOf(refused)).toBe("NOT_FOUND");
    expect((refused as Error).message).toBe("no container c on this host");
    await agent.close();
  });

  test("container.logsFollow streams lines as they come and cancels the agent's follow on unsubscribe", async () => {
    const agent = await join("logs-follow", () => ({ ignore: true }));
    const containerId = await createContainer(server.db, agent.hostId);
    const follow = recordSubscription<TLine>((handlers) =>
      viewer.container.logsFollow.subscribe({ id: containerId, tail: 3 }, handlers),
    );
    const request = await agent.waitFor("op.request", (frame) => frame.op.kind === "logs");
    expect(request.op).toMatchObject({ kind: "logs", containerId, follow: true, tail: 3 });
    const sendLine = (line: string, ts?: number) =>
      agent.send({
        type: "op.progress",
        id: request.id,
        data: { kind: "log", stream: "stdout", line, ...(ts !== undefined ? { ts } : {}) },
      });
    sendLine("one", 1000);
    sendLine("two", 1000);
    sendLine("three", 2000);
    sendLine("untimed");
    const lines = await follow.waitFor((items) => items.length >= 4);
    expect(lines.map((line) => line.line)).toEqual(["one", "two", "three", "untimed"]);
    expect(lines[2]?.ts).toEqual(new Date(2000));
    expect(follow.items.map((item) => item.id)).toEqual(["1000-0", "1000-1", "2000-0", "n4"]);

    follow.unsubscribe();
    const cancel = await agent.waitFor("op.cancel");
    expect(cancel.id).toBe(request.id);
    await agent.close();
  });

  test("a follow that reaches the agent before it has created the container waits for it instead of failing", async () => {
    const asked: TOpRequestFrame[] = [];
    const agent = await join("logs-not-created", (request) => {
      asked.push(request);
      if (asked.length < 3) return { ok: false, code: "not_found", message: "no container c on this host" };
      return { ignore: true };
    });
    const containerId = await createContainer(server.db, agent.hostId, { actualState: "pending" });
    const follow = recordSubscription<TLine>((handlers) =>
      viewer.container.logsFollow.subscribe({ id: containerId, tail: 5 }, handlers),
    );
    // Asked again every NOT_CREATED_RETRY_MS while the container is pending.
    await vi.waitFor(() => expect(asked).toHaveLength(3), { timeout: 5000 });
    const request = asked[2]!;
    expect(asked.map((each) => each.op)).toEqual(
      asked.map(() => expect.objectContaining({ kind: "logs", containerId, follow: true, tail: 5 })),
    );
    agent.send({
      type: "op.progress",
      id: request.id,
      data: { kind: "log", stream: "stdout", line: "first", ts: 1000 },
    });
    const lines = await follow.waitFor((items) => items.length >= 1);
    expect(lines.map((line) => line.line)).toEqual(["first"]);
    expect(follow.errors).toEqual([]);
    follow.unsubscribe();
    await agent.close();
  });

  test("a follow of a container the agent has lost fails at once with the agent's NOT_FOUND", async () => {
    let asks = 0;
    const agent = await join("logs-lost", () => {
      asks++;
      return { ok: false, code: "not_found", message: "no container c on this host" };
    });
    const containerId = await createContainer(server.db, agent.hostId, { actualState: "running" });
    const follow = recordSubscription<TLine>((handlers) =>
      viewer.container.logsFollow.subscribe({ id: containerId }, handlers),
    );
    const refused = await follow.waitForEnd().catch((error: unknown) => error);
    expect(codeOf(refused)).toBe("NOT_FOUND");
    expect(asks).toBe(1);
    await agent.close();
  });

  test("a follow resumed after a line continues after it: no repeats, no gap", async () => {
    const agent = await join("logs-resume", () => ({ ignore: true }));
    const containerId = await createContainer(server.db, agent.hostId);
    const resumed = recordSubscription<TLine>((handlers) =>
      viewer.container.logsFollow.subscribe({ id: containerId, lastEventId: "5000-1" }, handlers),
    );
    const request = await agent.waitFor("op.request", (frame) => frame.op.kind === "logs");
    // From the time of the last line seen, with room for everything written since.
    expect(request.op).toMatchObject({ kind: "logs", follow: true, since: 5000, tail: 10_000 });
    for (const [line, ts] of [
      ["a (seen)", 5000],
      ["b (seen)", 5000],
      ["c (new, same ms)", 5000],
      ["d (new)", 6000],
    ] as const) {
      agent.send({ type: "op.progress", id: request.id, data: { kind: "log", stream: "stdout", line, ts } });
    }
    const lines = await resumed.waitFor((items) => items.length >= 2);
    expect(lines.map((line) => line.line)).toEqual(["c (new, same ms)", "d (new)"]);
    expect(resumed.items.map((item) => item.id)).toEqual(["5000-2", "6000-0"]);

    // The container exits: the agent ends the follow and so does the stream.
    agent.send({
      type: "op.result",
      id: request.id,
      ok: true,
      kind: "logs",
      result: { lines: [], truncated: false },
    });
    await resumed.waitForEnd();
    await agent.close();
  });
});

/** Test servers stay below the kernel's ephemeral range (32768+), where a client's own port could collide. */
async function listenBelowEphemeralRange(target: Server): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const listening = await new Promise<boolean>((resolve) => {
      const onError = () => resolve(false);
      target.once("error", onError);
      target.listen(port, "127.0.0.1", () => {
        target.off("error", onError);
        resolve(true);
      });
    });
    if (listening) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}
