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

describe("user", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof createTestUserWithToken>>;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("an administrator creates a user who can then sign in with that role", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const created = await asAdmin.user.create.mutate({
      email: "  Carol@Example.TEST ",
      name: "Carol",
      role: "operator",
      password: "carols-password",
    });
    expect(created).toMatchObject({
      email: "carol@example.test",
      name: "Carol",
      role: "operator",
      disabledAt: null,
    });
    expect(created).not.toHaveProperty("passwordHash");

    const listed = await asAdmin.user.list.query();
    expect(listed.items.map((user) => user.email)).toContain("carol@example.test");

    const carol = createTestClient(server.url, { cookies: new CookieJar() });
    const signedIn = await carol.auth.signIn.mutate({
      email: "carol@example.test",
      password: "carols-password",
    });
    expect(signedIn.user.role).toBe("operator");

    const duplicate = await asAdmin.user.create
      .mutate({ email: "carol@example.test", name: "Other", password: "another-password" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(duplicate)).toBe("CONFLICT");
  });

  test("changing a password or disabling ends the user's sessions", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const dave = await createTestUser({ db: server.db, role: "viewer" });
    const browser = createTestClient(server.url, { cookies: new CookieJar() });
    await browser.auth.signIn.mutate({ email: dave.email, password: dave.password });
    expect((await browser.auth.me.query()).user?.id).toBe(dave.id);

    await asAdmin.user.update.mutate({ id: dave.id, password: "a-brand-new-password" });
    expect((await browser.auth.me.query()).user).toBeNull();
    await browser.auth.signIn.mutate({ email: dave.email, password: "a-brand-new-password" });

    const disabled = await asAdmin.user.update.mutate({ id: dave.id, disabled: true });
    expect(disabled.disabledAt).toBeInstanceOf(Date);
    expect((await browser.auth.me.query()).user).toBeNull();
    const again = await browser.auth.signIn
      .mutate({ email: dave.email, password: "a-brand-new-password" })
      .catch((error: unknown) => error);
    expect(trpcErrorCode(again)).toBe("FORBIDDEN");

    const enabled = await asAdmin.user.update.mutate({ id: dave.id, disabled: false, role: "operator" });
    expect(enabled).toMatchObject({ disabledAt: null, role: "operator" });
  });

  test("an update must change something", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const error = await asAdmin.user.update.mutate({ id: admin.userId }).catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("BAD_REQUEST");
    expect((error as Error).message).toBe("input: name at least one thing to change");
  });

  test("the last active administrator can be neither demoted, disabled nor removed", async () => {
    // Leave the test's admin as the only active one (the first start made another).
    await server.db.user.updateMany({
      where: { role: "admin", id: { not: admin.userId } },
      data: { disabledAt: new Date() },
    });
    const admins = await server.db.user.count({ where: { role: "admin", disabledAt: null } });
    expect(admins).toBe(1);
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    for (const change of [{ role: "viewer" as const }, { disabled: true }]) {
      const error = await asAdmin.user.update
        .mutate({ id: admin.userId, ...change })
        .catch((e: unknown) => e);
      expect(trpcErrorCode(error)).toBe("PRECONDITION_FAILED");
      expect((error as Error).message).toMatch(/it is the last active administrator/);
    }

    const second = await createTestUser({ db: server.db, role: "admin" });
    const removeSelf = await asAdmin.user.remove.mutate({ id: admin.userId }).catch((e: unknown) => e);
    expect(trpcErrorCode(removeSelf)).toBe("BAD_REQUEST");
    // With a second admin around, demoting one is fine, but then the other is the last.
    await asAdmin.user.update.mutate({ id: second.id, role: "operator" });
    const removed = await asAdmin.user.remove.mutate({ id: second.id });
    expect(removed.id).toBe(second.id);
    expect(await server.db.user.findUnique({ where: { id: second.id } })).toBeNull();
    const gone = await asAdmin.user.remove.mutate({ id: second.id }).catch((e: unknown) => e);
    expect(trpcErrorCode(gone)).toBe("NOT_FOUND");
  });
});
