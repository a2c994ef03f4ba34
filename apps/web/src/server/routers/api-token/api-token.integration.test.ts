import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUser, createTestUserWithToken } from "../../testing/factories";
import {
  CookieJar,
  createTestClient,
  startTestServer,
  type TestServer,
  trpcErrorCode,
} from "../../testing/test-server";
import { hashToken } from "../../tokens";

describe("apiToken", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("a signed-in person creates a token, sees it listed without its secret, and uses it", async () => {
    const viewer = await createTestUser({ db: server.db, role: "viewer" });
    const browser = createTestClient(server.url, { cookies: new CookieJar() });
    await browser.auth.signIn.mutate({ email: viewer.email, password: viewer.password });

    const created = await browser.apiToken.create.mutate({ name: "ci", expiresIn: "30d" });
    expect(created.token).toMatch(/^fleet_api_[A-Za-z0-9_-]{43}$/);
    expect(created.apiToken).toMatchObject({
      name: "ci",
      userId: viewer.id,
      userEmail: viewer.email,
      revokedAt: null,
    });
    expect(created.apiToken.prefix).toBe(`${created.token.slice(0, 16)}…`);
    const days = (created.apiToken.expiresAt!.getTime() - created.apiToken.createdAt.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);

    const listed = await browser.apiToken.list.query();
    expect(listed.items.map((token) => token.id)).toEqual([created.apiToken.id]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const stored = await server.db.apiToken.findUniqueOrThrow({ where: { id: created.apiToken.id } });
    expect(stored.tokenHash).toBe(hashToken(created.token));

    const program = createTestClient(server.url, { bearer: created.token });
    expect(await program.auth.me.query()).toMatchObject({
      user: { id: viewer.id, role: "viewer" },
      via: "apiToken",
    });
    const used = await server.db.apiToken.findUniqueOrThrow({ where: { id: created.apiToken.id } });
    expect(used.lastUsedAt).not.toBeNull();
  });

  test("a revoked token is UNAUTHORIZED at once, and says why", async () => {
    const { token } = await createTestUserWithToken({ db: server.db, role: "operator" });
    const program = createTestClient(server.url, { bearer: token });
    expect((await program.host.list.query({})).items).toEqual([]);

    const [own] = (await program.apiToken.list.query()).items;
    const revoked = await program.apiToken.revoke.mutate({ id: own!.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);

    const error = await program.host.list.query({}).catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("UNAUTHORIZED");
    expect((error as Error).message).toBe("this API token has been revoked");
    // The token can no longer even revoke itself again.
    expect(
      trpcErrorCode(await program.apiToken.revoke.mutate({ id: own!.id }).catch((caught: unknown) => caught)),
    ).toBe("UNAUTHORIZED");
  });

  test("an expired token is UNAUTHORIZED, even one accepted a moment before it expired", async () => {
    const { userId, token } = await createTestUserWithToken({ db: server.db, role: "viewer" });
    const expiresAt = Date.now() + 1000;
    await server.db.apiToken.updateMany({ where: { userId }, data: { expiresAt: new Date(expiresAt) } });
    const program = createTestClient(server.url, { bearer: token });
    // Accepted, and so kept by the central for a few seconds (longer than it has left).
    expect((await program.host.list.query({})).items).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, expiresAt + 50 - Date.now()));
    const error = await program.host.list.query({}).catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("UNAUTHORIZED");
    expect((error as Error).message).toBe("this API token has expired");
  });

  test("an unknown bearer token or a malformed Authorization header is UNAUTHORIZED", async () => {
    const unknown = await createTestClient(server.url, { bearer: "fleet_api_notarealtoken" })
      .host.list.query({})
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(unknown)).toBe("UNAUTHORIZED");
    expect((unknown as Error).message).toBe("unknown API token");

    const response = await fetch(`${server.url}/api/trpc/host.list`, {
      headers: { authorization: "Basic abc" },
    });
    expect(response.status).toBe(401);
    expect(JSON.stringify(await response.json())).toContain("Bearer <API token>");
  });

  test("people manage their own tokens; an administrator manages everyone's", async () => {
    const alice = await createTestUserWithToken({ db: server.db, role: "operator" });
    const bob = await createTestUserWithToken({ db: server.db, role: "viewer" });
    const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
    const asAlice = createTestClient(server.url, { bearer: alice.token });
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const [bobsToken] = (await createTestClient(server.url, { bearer: bob.token }).apiToken.list.query())
      .items;

    // Someone else's token is not found rather than forbidden: ids reveal nothing.
    expect(
      trpcErrorCode(await asAlice.apiToken.revoke.mutate({ id: bobsToken!.id }).catch((e: unknown) => e)),
    ).toBe("NOT_FOUND");
    expect(trpcErrorCode(await asAlice.apiToken.list.query({ all: true }).catch((e: unknown) => e))).toBe(
      "FORBIDDEN",
    );
    expect(
      trpcErrorCode(
        await asAlice.apiToken.create.mutate({ name: "x", userId: bob.userId }).catch((e: unknown) => e),
      ),
    ).toBe("FORBIDDEN");

    const everyone = await asAdmin.apiToken.list.query({ all: true });
    expect(everyone.items.map((token) => token.userId)).toEqual(
      expect.arrayContaining([alice.userId, bob.userId, admin.userId]),
    );
    const forBob = await asAdmin.apiToken.create.mutate({ name: "for bob", userId: bob.userId });
    expect(forBob.apiToken.userId).toBe(bob.userId);
    const revoked = await asAdmin.apiToken.revoke.mutate({ id: bobsToken!.id });
    expect(revoked.revokedAt).not.toBeNull();
    const activeOfBob = await asAdmin.apiToken.list.query({ userId: bob.userId, activeOnly: true });
    expect(activeOfBob.items.map((token) => token.id)).toEqual([forBob.apiToken.id]);
  });

  test("tokens of a disabled account stop working", async () => {
    const user = await createTestUserWithToken({ db: server.db, role: "operator" });
    await server.db.user.update({ where: { id: user.userId }, data: { disabledAt: new Date() } });
    const error = await createTestClient(server.url, { bearer: user.token })
      .auth.me.query()
      .then(() => createTestClient(server.url, { bearer: user.token }).host.list.query({}))
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("UNAUTHORIZED");
  });
});
