// The upload quota over HTTP: one person filling their share of the upload
// store is told so (429, Retry-After) while everyone else still uploads.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "./testing/factories";
import { startTestServer, type TestServer } from "./testing/test-server";
import { MAX_UPLOAD_BYTES, MAX_UPLOAD_SHARE_BYTES, MAX_UPLOADS_PER_USER, UPLOADS_PATH } from "./uploads";

describe("the upload quota", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await server?.close();
  });

  const upload = (token: string, body: Buffer) =>
    fetch(`${server.url}${UPLOADS_PATH}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-tar" },
      body: new Uint8Array(body),
    });

  test("a full share is refused with 429, naming the share and when it frees; others still upload", async () => {
    const greedy = await createTestUserWithToken({ db: server.db, role: "operator" });
    const other = await createTestUserWithToken({ db: server.db, role: "operator" });
    const largest = Buffer.alloc(MAX_UPLOAD_BYTES, 1);
    for (let filled = 0; filled + MAX_UPLOAD_BYTES <= MAX_UPLOAD_SHARE_BYTES; filled += MAX_UPLOAD_BYTES) {
      expect((await upload(greedy.token, largest)).status).toBe(201);
    }

    const refused = await upload(greedy.token, Buffer.from("one more"));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.message).toContain("your share of 128 MiB");
    expect(error.message).toMatch(/Room frees in \d+ s/);

    const receipt = await upload(other.token, Buffer.from("FROM scratch"));
    expect(receipt.status).toBe(201);
    expect(await receipt.json()).toMatchObject({ sizeBytes: 12 });
  });

  test("one person holds a bounded number of uploads, however small", async () => {
    const { token } = await createTestUserWithToken({ db: server.db, role: "operator" });
    for (let index = 0; index < MAX_UPLOADS_PER_USER; index++) {
      expect((await upload(token, Buffer.from(`context ${index}`))).status).toBe(201);
    }
    const refused = await upload(token, Buffer.from("context"));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      `the most one person may (${MAX_UPLOADS_PER_USER})`,
    );
  });
});
