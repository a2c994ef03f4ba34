// What the API does with input it cannot use: readable BAD_REQUEST messages,
// bodies over the limit refused before parsing, nothing internal leaked.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import type { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../testing/test-server";
import { MAX_REQUEST_BODY_BYTES } from "../trpc";

describe("API input limits", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    ({ token: adminToken } = await createTestUserWithToken({ db: server.db, role: "admin" }));
  });
  afterAll(async () => {
    await server?.close();
  });

  function errorOf(promise: Promise<unknown>): Promise<TRPCClientError<never>> {
    return promise.then(
      () => {
        throw new Error("expected the call to fail");
      },
      (error: unknown) => error as TRPCClientError<never>,
    );
  }

  test("bad input is BAD_REQUEST with a message naming each field and what it must be", async () => {
    const admin = createTestClient(server.url, { bearer: adminToken });
    const error = await errorOf(
      admin.user.create.mutate({
        email: "not-an-email",
        name: "",
        // @ts-expect-error: a role that does not exist, as a hand-written client might send
        role: "king",
        password: "short",
      }),
    );
    expect(error.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect(error.message).toBe(
      'email: must be an email address; name: must not be empty; role: must be one of "admin", "operator", "viewer"; password: must be at least 10 characters',
    );
    expect(error.data).not.toHaveProperty("stack");
  });

  test("a missing field is 'required', a custom rule keeps its own words", async () => {
    const admin = createTestClient(server.url, { bearer: adminToken });
    // @ts-expect-error: `draining` left out on purpose
    const missing = await errorOf(admin.host.drain.mutate({ id: "x" }));
    expect(missing.message).toBe("draining: is required");

    const selector = await errorOf(admin.host.list.query({ label: "zone in ()" }));
    expect(selector.data).toMatchObject({ code: "BAD_REQUEST" });
    expect(selector.message).toMatch(
      /^label: invalid label selector "zone in \(\)": "in" needs at least one value/,
    );

    const ttl = await errorOf(admin.joinToken.create.mutate({ ttl: "30s" }));
    expect(ttl.message).toBe("ttl: must be between 1m and 7d, got 30s");
  });

  test("AppErrors keep their code and message", async () => {
    const admin = createTestClient(server.url, { bearer: adminToken });
    const error = await errorOf(admin.host.get.query({ id: "no-such-host" }));
    expect(error.data).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    expect(error.message).toBe("no host with id no-such-host");
  });

  test(`a body over ${MAX_REQUEST_BODY_BYTES} bytes is refused with 413 and nothing is stored`, async () => {
    const usersBefore = await server.db.user.count();
    const name = "x".repeat(2 * 1024 * 1024);
    const response = await fetch(`${server.url}/api/trpc/user.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ json: { email: "big@example.test", name, password: "long-enough-password" } }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { json: { message: string; data: { code: string } } } };
    expect(body.error.json.data.code).toBe("PAYLOAD_TOO_LARGE");
    expect(await server.db.user.count()).toBe(usersBefore);

    // The server is still fine afterwards.
    expect((await createTestClient(server.url).health.query()).status).toBe("ok");
  });

  test("GET /api/trpc/health answers without credentials", async () => {
    const response = await fetch(`${server.url}/api/trpc/health`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      result: { data: { json: { status: string; database: string } } };
    };
    expect(body.result.data.json).toMatchObject({ status: "ok", database: "ok" });
  });

  test("paths that are neither API nor agent socket are 404 without Next.js", async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/trpc/no.such.procedure`)).status).toBe(404);
  });
});
