// The image API over real HTTP and SSE against a real central on a real
// database; the hosts are protocol-level fake agents on real WebSockets whose
// "engines" are a list of images each, changed by the operations they get.
import { createHash, randomBytes } from "node:crypto";
import type { TImageSummary } from "@fleet/shared/protocol/operations";
import type { TOpRequestFrame, TUploadChunkFrame } from "@fleet/shared/protocol/server-to-agent";
import { eventually } from "@fleet/test/harness/eventually";
import { connectFakeAgent, type FakeAgent, type TFakeOpAnswer } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEventBus } from "../../events/event-bus";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";
import { UPLOADS_PATH } from "../../uploads";
import type { AppRouter } from "../_app";
import { createSseTestClient, recordSubscription } from "../event/testing/sse-test-client";

type TPullProgress = {
  hostId: string;
  hostName: string;
  status: string;
  done: boolean;
  digest?: string | null;
  error?: string;
  current?: number;
  total?: number;
  layer?: string;
};
type TBuildProgress =
  | { type: "output"; line: string }
  | { type: "built"; imageId: string }
  | { type: "failed"; error: string };

const imageId = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;
const digestOf = (seed: string) => `sha256:${createHash("sha256").update(`digest:${seed}`).digest("hex")}`;

function image(tag: string, overrides: Partial<TImageSummary> = {}): TImageSummary {
  return {
    id: imageId(tag),
    tags: [tag],
    digests: [],
    sizeBytes: 1_234_567,
    createdAt: "2030-01-02T03:04:05.000Z",
    ...overrides,
  };
}

/** A fake host whose engine holds `images`; pulls of `failPulls` fail with the engine's words. */
class FakeHost {
  images: TImageSummary[] = [];
  requests: TOpRequestFrame[] = [];
  agent!: FakeAgent;
  /** When set, builds fail with these words from the "engine". */
  buildError: string | null = null;
  /** When set, pulls get no answer: the test sends their progress and result itself. */
  holdPulls = false;
  constructor(
    readonly name: string,
    readonly failPulls = false,
  ) {}

  get id() {
    return this.agent.hostId;
  }

  answer(request: TOpRequestFrame): TFakeOpAnswer {
    this.requests.push(request);
    const op = request.op;
    switch (op.kind) {
      case "image.list":
        return { ok: true, result: { images: this.images } };
      case "image.pull": {
        if (this.holdPulls) return { ignore: true };
        if (this.failPulls) {
          return {
            ok: false,
            code: "engine",
            message: `pull access denied for ${op.image}, repository does not exist`,
            progress: [{ kind: "progress", status: "Trying to pull repository" }],
          };
        }
        this.images.push(image(op.image, { digests: [`${op.image.split(":")[0]}@${digestOf(op.image)}`] }));
        return {
          ok: true,
          progress: [
            { kind: "progress", status: "Pulling fs layer", id: "a1b2c3" },
            { kind: "progress", status: "Downloading", id: "a1b2c3", current: 512, total: 1024 },
            { kind: "progress", status: "Pull complete", id: "a1b2c3" },
          ],
          result: { digest: digestOf(op.image) },
        };
      }
      case "image.remove": {
        const gone = this.images.filter((entry) => entry.id === op.image || entry.tags.includes(op.image));
        if (gone.length === 0) return { ok: false, code: "not_found", message: `no such image: ${op.image}` };
        this.images = this.images.filter((entry) => !gone.includes(entry));
        return {
          ok: true,
          result: { untagged: gone.flatMap((entry) => entry.tags), deleted: gone.map((entry) => entry.id) },
        };
      }
      case "image.build": {
        if (this.buildError) return { ok: false, code: "engine", message: this.buildError };
        const chunks = this.agent.frames.filter(
          (frame): frame is TUploadChunkFrame =>
            frame.type === "upload.chunk" && frame.uploadId === op.uploadId,
        );
        const context = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.data, "base64")));
        const built = image(op.tag, { id: imageId(context.toString("base64")) });
        this.images.push(built);
        return {
          ok: true,
          progress: [
            { kind: "output", line: `Step 1/2 : FROM scratch (${op.dockerfile})` },
            {
              kind: "output",
              line: `context: ${chunks.length} chunks, ${context.byteLength} bytes, sha256 ${createHash("sha256").update(context).digest("hex")}`,
            },
          ],
          result: { imageId: built.id },
        };
      }
      default:
        return { ok: false, code: "unsupported", message: `${op.kind} is not faked here` };
    }
  }
}

describe("image API", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let operator: ReturnType<typeof createSseTestClient<AppRouter>>;
  let viewer: ReturnType<typeof createSseTestClient<AppRouter>>;
  let operatorToken: string;
  let viewerToken: string;
  const h1 = new FakeHost("img-h1");
  const h2 = new FakeHost("img-h2", true);

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url, bus: createEventBus() });
    ({ token: operatorToken } = await createTestUserWithToken({ db: server.db, role: "operator" }));
    ({ token: viewerToken } = await createTestUserWithToken({ db: server.db, role: "viewer" }));
    operator = createSseTestClient<AppRouter>(server.url, operatorToken);
    viewer = createSseTestClient<AppRouter>(server.url, viewerToken);
    const admin = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    });
    for (const host of [h1, h2]) {
      const { token } = await admin.joinToken.create.mutate({});
      host.agent = await connectFakeAgent({
        url: server.url,
        joinToken: token,
        name: host.name,
        answerOp: (request) => host.answer(request),
      });
    }
  });
  afterAll(async () => {
    await h1.agent?.close();
    await h2.agent?.close();
    await server?.close();
  });

  const codeOf = (error: unknown) =>
    error instanceof TRPCClientError ? (error.data as { code?: string } | undefined)?.code : undefined;

  test("image.refresh asks every connected host and image.list shows what they hold", async () => {
    h1.images = [image("busybox:1.36"), image("nginx:1.27", { digests: [`nginx@${digestOf("nginx")}`] })];
    h2.images = [image("busybox:1.36")];
    const refreshed = await operator.image.refresh.mutate();
    expect(refreshed.hosts).toEqual([
      { hostId: h1.id, hostName: "img-h1", ok: true, images: 2, error: null },
      { hostId: h2.id, hostName: "img-h2", ok: true, images: 1, error: null },
    ]);
    const all = await viewer.image.list.query();
    expect(all.items).toHaveLength(3);
    const nginx = all.items.find((entry) => entry.tags.includes("nginx:1.27"));
    expect(nginx).toEqual({
      hostId: h1.id,
      hostName: "img-h1",
      id: imageId("nginx:1.27"),
      tags: ["nginx:1.27"],
      digests: [`nginx@${digestOf("nginx")}`],
      sizeBytes: 1_234_567,
      createdAt: new Date("2030-01-02T03:04:05.000Z"),
      seenAt: expect.any(Date),
    });
    // Each tag once, whichever hosts hold it; a search is a substring in any case, wildcards taken literally.
    expect((await viewer.image.tags.query()).items).toEqual(["busybox:1.36", "nginx:1.27"]);
    expect((await viewer.image.tags.query({ search: "NGI" })).items).toEqual(["nginx:1.27"]);
    expect((await viewer.image.tags.query({ search: "busybox_" })).items).toEqual([]);
    // A page of hosts at a time; a search matches a tag, an id or the host's name.
    const first = await viewer.image.list.query({ hosts: 1 });
    expect(first.items.map((entry) => entry.hostName)).toEqual(["img-h1", "img-h1"]);
    const second = await viewer.image.list.query({ hosts: 1, cursor: first.nextCursor });
    expect([second.items.map((entry) => entry.hostName), second.nextCursor]).toEqual([["img-h2"], null]);
    const nginxOnly = await viewer.image.list.query({ search: "NGINX" });
    expect(nginxOnly.items.map((entry) => [entry.hostName, entry.tags])).toEqual([
      ["img-h1", ["nginx:1.27"]],
    ]);
    expect((await viewer.image.list.query({ search: "img-h2" })).items.map((entry) => entry.tags)).toEqual([
      ["busybox:1.36"],
    ]);

    // The engine changed: one image gone, one new, one retagged. One host refreshed alone.
    h1.images = [image("busybox:1.36", { tags: ["busybox:1.36", "busybox:latest"] }), image("alpine:3.20")];
    const one = await operator.image.refresh.mutate({ hostId: h1.id });
    expect(one.hosts).toEqual([{ hostId: h1.id, hostName: "img-h1", ok: true, images: 2, error: null }]);
    const onH1 = await viewer.image.list.query({ hostId: h1.id });
    expect(onH1.items.map((entry) => entry.tags).sort()).toEqual([
      ["alpine:3.20"],
      ["busybox:1.36", "busybox:latest"],
    ]);
    expect((await viewer.image.list.query({ hostId: h2.id })).items).toHaveLength(1);

    // An empty engine leaves no rows.
    h2.images = [];
    await operator.image.refresh.mutate({ hostId: h2.id });
    expect((await viewer.image.list.query({ hostId: h2.id })).items).toEqual([]);
  });

  test("image.pull starts a job; image.watchPull streams every host's progress to done, with the agent's error", async () => {
    const ref = "127.0.0.1:5000/fleet/app:1";
    const started = await operator.image.pull.mutate({ image: ref, hostIds: [h1.id, h2.id] });
    expect(started).toEqual({
      jobId: expect.stringMatching(/^job_[A-Za-z0-9_-]+$/),
      hosts: [
        { hostId: h1.id, hostName: "img-h1" },
        { hostId: h2.id, hostName: "img-h2" },
      ],
    });
    const pull = recordSubscription<TPullProgress>((handlers) =>
      operator.image.watchPull.subscribe({ jobId: started.jobId }, handlers),
    );
    await pull.waitForEnd(15_000);
    const items = pull.items.map((item) => item.data);
    const ofH1 = items.filter((item) => item.hostId === h1.id);
    const ofH2 = items.filter((item) => item.hostId === h2.id);
    expect(ofH1.map((item) => item.status)).toEqual([
      "requested",
      "Pulling fs layer",
      "Downloading",
      "Pull complete",
      "pulled",
    ]);
    expect(ofH1[2]).toMatchObject({
      hostName: "img-h1",
      layer: "a1b2c3",
      current: 512,
      total: 1024,
      done: false,
    });
    expect(ofH1.at(-1)).toMatchObject({ done: true, digest: digestOf(ref) });
    expect(ofH2.map((item) => item.status)).toEqual(["requested", "Trying to pull repository", "failed"]);
    expect(ofH2.at(-1)).toMatchObject({
      hostName: "img-h2",
      done: true,
      error: `pull access denied for ${ref}, repository does not exist`,
    });
    // Tracked ids rise, so a reconnecting client knows where it was.
    expect(pull.items.map((item) => Number(item.id))).toEqual(pull.items.map((_, index) => index + 1));

    // The host that pulled had its image rows refreshed; events say what happened where.
    const onH1 = await viewer.image.list.query({ hostId: h1.id });
    expect(onH1.items.some((entry) => entry.tags.includes(ref))).toBe(true);
    const events = await viewer.event.list.query({ kindPrefix: "image.pull" });
    expect(events.items.map((event) => [event.kind, event.hostId, event.severity]).sort()).toEqual([
      ["image.pull-failed", h2.id, "error"],
      ["image.pulled", h1.id, "info"],
    ]);
    expect(events.items.find((event) => event.kind === "image.pull-failed")?.message).toBe(
      `pulling ${ref} onto host img-h2 failed: pull access denied for ${ref}, repository does not exist`,
    );
  });

  test("image.pull with all: true goes to every online host; bad input and roles are refused", async () => {
    const before = h1.requests.length;
    const { jobId } = await operator.image.pull.mutate({ image: "busybox:1.37", all: true });
    const pull = recordSubscription<TPullProgress>((handlers) =>
      operator.image.watchPull.subscribe({ jobId }, handlers),
    );
    await pull.waitForEnd(15_000);
    const finals = pull.items.map((item) => item.data).filter((item) => item.done);
    expect(finals.map((item) => [item.hostName, item.status]).sort()).toEqual([
      ["img-h1", "pulled"],
      ["img-h2", "failed"],
    ]);
    expect(h1.requests.slice(before).map((request) => request.op.kind)).toEqual(["image.pull", "image.list"]);

    await expect(operator.image.pull.mutate({ image: "Not A Ref!", all: true })).rejects.toThrow(
      /image: invalid image reference "Not A Ref!"/,
    );
    await expect(
      operator.image.pull.mutate({ image: "busybox", all: true, hostIds: [h1.id] }),
    ).rejects.toThrow(/name the hosts with hostIds/);
    const unknownHost = await operator.image.pull
      .mutate({ image: "busybox", hostIds: ["no-such-host"] })
      .catch((e: unknown) => e);
    expect(codeOf(unknownHost)).toBe("NOT_FOUND");
    expect((unknownHost as Error).message).toBe("no host with id no-such-host");
    await expect(viewer.image.pull.mutate({ image: "busybox", all: true })).rejects.toThrow(
      "this needs the operator role; you are viewer",
    );
  });

  test("image.remove removes from one host, refreshes its rows and records it; an offline host is a clear error", async () => {
    h1.images.push(image("redis:7"));
    await operator.image.refresh.mutate({ hostId: h1.id });
    const result = await operator.image.remove.mutate({ hostId: h1.id, image: "redis:7" });
    expect(result).toEqual({ untagged: ["redis:7"], deleted: [imageId("redis:7")] });
    const onH1 = await viewer.image.list.query({ hostId: h1.id });
    expect(onH1.items.some((entry) => entry.tags.includes("redis:7"))).toBe(false);
    const [removed] = (await viewer.event.list.query({ kindPrefix: "image.removed" })).items;
    expect(removed).toMatchObject({
      hostId: h1.id,
      message: expect.stringContaining("removed redis:7 from host img-h1"),
    });

    const missing = await operator.image.remove
      .mutate({ hostId: h1.id, image: "redis:7" })
      .catch((e: unknown) => e);
    expect(codeOf(missing)).toBe("NOT_FOUND");
    expect((missing as Error).message).toBe("no such image: redis:7");

    const offline = await createTestHost(server.db, { name: "img-offline", status: "offline" });
    const error = await operator.image.remove
      .mutate({ hostId: offline.id, image: "redis:7" })
      .catch((e: unknown) => e);
    expect(codeOf(error)).toBe("PRECONDITION_FAILED");
    expect((error as Error).message).toBe("host img-offline is offline");
    await expect(operator.image.refresh.mutate({ hostId: offline.id })).rejects.toThrow(
      "host img-offline is offline",
    );
    await expect(viewer.image.remove.mutate({ hostId: h1.id, image: "redis:7" })).rejects.toSatisfy(
      (e) => codeOf(e) === "FORBIDDEN",
    );
  });

  async function upload(bytes: Buffer, bearer: string | null): Promise<Response> {
    return fetch(`${server.url}${UPLOADS_PATH}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-tar",
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: new Uint8Array(bytes),
    });
  }

  test("image.build streams the uploaded context to the agent in chunks and the build's output back", async () => {
    // Larger than a tRPC body may be, and than one upload chunk (512 KiB).
    const context = randomBytes(1536 * 1024 + 17);
    const response = await upload(context, operatorToken);
    expect(response.status).toBe(201);
    const receipt = (await response.json()) as { uploadId: string; sizeBytes: number; expiresAt: string };
    expect(receipt.sizeBytes).toBe(context.byteLength);
    expect(receipt.uploadId).toMatch(/^up_[A-Za-z0-9_-]+$/);

    const started = await operator.image.build.mutate({
      hostId: h1.id,
      tag: "fleet/built:1",
      uploadId: receipt.uploadId,
    });
    expect(started).toEqual({ jobId: expect.stringMatching(/^job_/), hostId: h1.id, hostName: "img-h1" });
    const build = recordSubscription<TBuildProgress>((handlers) =>
      operator.image.watchBuild.subscribe({ jobId: started.jobId }, handlers),
    );
    await build.waitForEnd(15_000);
    const items = build.items.map((item) => item.data);
    const digest = createHash("sha256").update(context).digest("hex");
    expect(items).toEqual([
      { type: "output", line: `sending the build context (${context.byteLength} bytes) to host img-h1` },
      { type: "output", line: "Step 1/2 : FROM scratch (Dockerfile)" },
      { type: "output", line: `context: 4 chunks, ${context.byteLength} bytes, sha256 ${digest}` },
      { type: "built", imageId: imageId(context.toString("base64")) },
    ]);
    const built = await viewer.image.list.query({ hostId: h1.id });
    expect(built.items.find((entry) => entry.tags.includes("fleet/built:1"))?.id).toBe(
      imageId(context.toString("base64")),
    );
    const [event] = (await viewer.event.list.query({ kindPrefix: "image.built" })).items;
    expect(event).toMatchObject({ hostId: h1.id, data: expect.objectContaining({ tag: "fleet/built:1" }) });

    // An upload is used once: the second build is refused before it exists.
    const again = await operator.image.build
      .mutate({ hostId: h1.id, tag: "fleet/built:2", uploadId: receipt.uploadId })
      .catch((e: unknown) => e);
    expect(codeOf(again)).toBe("NOT_FOUND");
    expect((again as Error).message).toContain(`no upload ${receipt.uploadId}`);
  });

  test("uploads need an operator's credentials and are refused empty", async () => {
    expect((await upload(Buffer.from("tar"), null)).status).toBe(401);
    const asViewer = await upload(Buffer.from("tar"), viewerToken);
    expect(asViewer.status).toBe(403);
    expect(await asViewer.json()).toEqual({
      error: { code: "FORBIDDEN", message: "this needs the operator role; you are viewer" },
    });
    expect((await upload(Buffer.alloc(0), operatorToken)).status).toBe(400);
    const get = await fetch(`${server.url}${UPLOADS_PATH}`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    expect(get.status).toBe(405);
  });

  test("a build whose engine fails ends with `failed` and the engine's words", async () => {
    const { uploadId } = (await (await upload(Buffer.from("FROM nothing"), operatorToken)).json()) as {
      uploadId: string;
    };
    h2.buildError = "failed to parse Dockerfile: unknown instruction: NOTHING";
    const { jobId } = await operator.image.build.mutate({
      hostId: h2.id,
      tag: "fleet/broken:1",
      uploadId,
      dockerfile: "sub/Dockerfile",
    });
    const build = recordSubscription<TBuildProgress>((handlers) =>
      operator.image.watchBuild.subscribe({ jobId }, handlers),
    );
    await build.waitForEnd(15_000);
    expect(build.items.map((item) => item.data).at(-1)).toEqual({
      type: "failed",
      error: "failed to parse Dockerfile: unknown instruction: NOTHING",
    });
    const [event] = (await viewer.event.list.query({ kindPrefix: "image.build-failed" })).items;
    expect(event).toMatchObject({ hostId: h2.id, severity: "error" });
  });
  // A pull whose host answers only when the test says so, so that watchers come and go mid-pull.
  async function heldPull(ref: string) {
    const held = new FakeHost("img-held");
    held.holdPulls = true;
    const admin = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    });
    const { token } = await admin.joinToken.create.mutate({});
    held.agent = await connectFakeAgent({
      url: server.url,
      joinToken: token,
      name: `img-held-${randomBytes(3).toString("hex")}`,
      answerOp: (request) => held.answer(request),
    });
    const { jobId } = await operator.image.pull.mutate({ image: ref, hostIds: [held.id] });
    const request = await held.agent.waitFor(
      "op.request",
      (frame) => frame.op.kind === "image.pull" && frame.op.image === ref,
    );
    const progress = (layer: string, current: number) =>
      held.agent.send({
        type: "op.progress",
        id: request.id,
        data: { kind: "progress", status: "Downloading", id: layer, current, total: 100 },
      });
    const finish = () =>
      held.agent.send({
        type: "op.result",
        id: request.id,
        ok: true,
        kind: "image.pull",
        result: { digest: digestOf(ref) },
      });
    const cancels = () =>
      held.agent.frames.filter((frame) => frame.type === "op.cancel" && frame.id === request.id).length;
    return { held, jobId, progress, finish, cancels };
  }

  test("a watcher that goes away and comes back with lastEventId misses nothing, repeats nothing, and the pull went on", async () => {
    const ref = "127.0.0.1:5000/fleet/resumed:1";
    const pull = await heldPull(ref);
    try {
      const first = recordSubscription<TPullProgress>((handlers) =>
        operator.image.watchPull.subscribe({ jobId: pull.jobId }, handlers),
      );
      await first.waitFor((items) => items.length === 1);
      for (const current of [10, 20, 30]) pull.progress("l1", current);
      await first.waitFor((items) => items.length === 4);
      first.unsubscribe();
      const lastEventId = first.items.at(-1)?.id;
      expect(lastEventId).toBe("4");

      // Unwatched, the pull goes on: the host is not told to cancel, and what it reports is kept.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const current of [40, 50]) pull.progress("l1", current);
      const second = recordSubscription<TPullProgress>((handlers) =>
        operator.image.watchPull.subscribe({ jobId: pull.jobId, lastEventId }, handlers),
      );
      await second.waitFor((items) => items.length === 2);
      pull.finish();
      await second.waitForEnd(15_000);

      const ids = [...first.items, ...second.items].map((item) => Number(item.id));
      expect(ids).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const seen = [...first.items, ...second.items].map((item) => [
        item.data.status,
        item.data.current ?? null,
      ]);
      expect(seen).toEqual([
        ["requested", null],
        ["Downloading", 10],
        ["Downloading", 20],
        ["Downloading", 30],
        ["Downloading", 40],
        ["Downloading", 50],
        ["pulled", null],
      ]);
      expect(second.items.at(-1)?.data).toMatchObject({ done: true, digest: digestOf(ref) });
      expect(pull.cancels()).toBe(0);

      // A finished job can still be watched from its start, by who started it.
      const replay = recordSubscription<TPullProgress>((handlers) =>
        operator.image.watchPull.subscribe({ jobId: pull.jobId }, handlers),
      );
      await replay.waitForEnd();
      expect(replay.items.map((item) => [item.data.status, item.data.current ?? null])).toEqual(seen);
      const events = await viewer.event.list.query({ kindPrefix: "image.pulled", hostId: pull.held.id });
      expect(events.items.map((event) => event.message)).toEqual([
        expect.stringContaining(`pulled ${ref} onto host`),
      ]);
    } finally {
      await pull.held.agent.close();
    }
  });

  test("image.cancelJob stops a running pull: the host is told, and the watch ends with `failed: cancelled`", async () => {
    const ref = "127.0.0.1:5000/fleet/cancelled:1";
    const pull = await heldPull(ref);
    try {
      const watch = recordSubscription<TPullProgress>((handlers) =>
        operator.image.watchPull.subscribe({ jobId: pull.jobId }, handlers),
      );
      pull.progress("l1", 10);
      await watch.waitFor((items) => items.length === 2);
      expect(await operator.image.cancelJob.mutate({ jobId: pull.jobId })).toEqual({ cancelled: true });
      await watch.waitForEnd(15_000);
      expect(watch.items.at(-1)?.data).toMatchObject({ status: "failed", done: true, error: "cancelled" });
      expect(pull.cancels()).toBe(1);
      expect(await operator.image.cancelJob.mutate({ jobId: pull.jobId })).toEqual({ cancelled: false });
    } finally {
      await pull.held.agent.close();
    }
  });

  test("a job shows only to who started it and to administrators; unknown ids and wrong kinds are clear errors", async () => {
    const { jobId } = await operator.image.pull.mutate({ image: "busybox:1.38", hostIds: [h1.id] });
    const finished = recordSubscription<TPullProgress>((handlers) =>
      operator.image.watchPull.subscribe({ jobId }, handlers),
    );
    await finished.waitForEnd(15_000);

    const notFound = `no job job_nothing: a pull or build can be watched by who started it (and administrators) until 5 minutes after it ended`;
    const unknown = recordSubscription((handlers) =>
      operator.image.watchPull.subscribe({ jobId: "job_nothing" }, handlers),
    );
    await expect(unknown.waitForEnd()).rejects.toThrow(notFound);
    expect(codeOf(unknown.errors[0])).toBe("NOT_FOUND");
    unknown.unsubscribe();

    const other = createSseTestClient<AppRouter>(
      server.url,
      (await createTestUserWithToken({ db: server.db, role: "operator" })).token,
    );
    const theirs = recordSubscription((handlers) => other.image.watchPull.subscribe({ jobId }, handlers));
    await expect(theirs.waitForEnd()).rejects.toThrow(
      `no job ${jobId}: a pull or build can be watched by who started it`,
    );
    expect(codeOf(theirs.errors[0])).toBe("NOT_FOUND");
    theirs.unsubscribe();
    await expect(other.image.cancelJob.mutate({ jobId })).rejects.toSatisfy((e) => codeOf(e) === "NOT_FOUND");

    const admin = createSseTestClient<AppRouter>(
      server.url,
      (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    );
    const asAdmin = recordSubscription<TPullProgress>((handlers) =>
      admin.image.watchPull.subscribe({ jobId }, handlers),
    );
    await asAdmin.waitForEnd();
    expect(asAdmin.items.map((item) => item.data)).toEqual(finished.items.map((item) => item.data));

    const asViewer = recordSubscription((handlers) => viewer.image.watchPull.subscribe({ jobId }, handlers));
    await expect(asViewer.waitForEnd()).rejects.toThrow("this needs the operator role; you are viewer");
    asViewer.unsubscribe();

    const wrongKind = recordSubscription((handlers) =>
      operator.image.watchBuild.subscribe({ jobId }, handlers),
    );
    await expect(wrongKind.waitForEnd()).rejects.toThrow(`job ${jobId} is a pull, not a build`);
    wrongKind.unsubscribe();
    const pastEnd = recordSubscription((handlers) =>
      operator.image.watchPull.subscribe({ jobId, lastEventId: "999" }, handlers),
    );
    await expect(pastEnd.waitForEnd()).rejects.toThrow(
      /lastEventId 999 is past job .*'s last message \(\d+\)/,
    );
    pastEnd.unsubscribe();
    await expect(operator.image.cancelJob.mutate({ jobId: "not a job" })).rejects.toThrow(
      "jobId: must be a job id as image.pull or image.build answered it",
    );
  });

  // Last: its event would show in the other tests' lists of image events.
  test("a pull an agent reports (a container's create) refreshes that host's images without anyone asking", async () => {
    h2.images = [image("postgres:16")];
    h2.agent.send({
      type: "event",
      ts: Date.now(),
      kind: "image.pulled",
      message: "pulled postgres:16",
      data: { image: "postgres:16", digest: digestOf("postgres") },
    });
    await eventually(
      "the pulled image listed on its host",
      async () => (await viewer.image.list.query({ hostId: h2.id })).items.map((entry) => entry.tags),
      (tags) => tags.some((entryTags) => entryTags.includes("postgres:16")),
    );
  });
});
