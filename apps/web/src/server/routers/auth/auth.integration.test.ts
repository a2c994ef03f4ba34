import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUser } from "../../testing/factories";
import {
  CookieJar,
  createTestClient,
  startTestServer,
  type TestServer,
  trpcErrorCode,
} from "../../testing/test-server";
import { hashToken } from "../../tokens";

describe("auth", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function signInResponse(email: string, password: string): Promise<Response> {
    return fetch(`${server.url}/api/trpc/auth.signIn`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: { email, password } }),
    });
  }

  test("signing in sets an HttpOnly, SameSite=Strict session cookie whose hash is the session id", async () => {
    const user = await createTestUser({ db: server.db, role: "operator" });
    const response = await signInResponse(user.email.toUpperCase(), user.password);
    expect(response.status).toBe(200);
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(
      /^fleet_session=fleet_sess_[A-Za-z0-9_-]+; Max-Age=604800; Expires=.+; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    // Served over plain HTTP with an http public URL: not Secure.
    expect(cookie).not.toContain("Secure");
    const token = /^fleet_session=([^;]+)/.exec(cookie!)![1]!;
    const session = await server.db.session.findUniqueOrThrow({ where: { id: hashToken(token) } });
    expect(session.userId).toBe(user.id);
  });

  test("a session signs in the browser until it signs out", async () => {
    const user = await createTestUser({ db: server.db, role: "viewer" });
    const cookies = new CookieJar();
    const browser = createTestClient(server.url, { cookies });
    expect(await browser.auth.me.query()).toEqual({ user: null, via: null });

    await browser.auth.signIn.mutate({ email: user.email, password: user.password });
    expect(await browser.auth.me.query()).toMatchObject({
      user: { id: user.id, role: "viewer" },
      via: "session",
    });
    expect((await browser.host.list.query({})).items).toEqual([]);

    const stolen = cookies.header();
    expect(await browser.auth.signOut.mutate()).toEqual({ signedOut: true });
    expect(cookies.cookies.size).toBe(0);
    expect(await browser.auth.me.query()).toEqual({ user: null, via: null });
    // The old cookie is dead on the server too, not just forgotten by the browser.
    const replay = await fetch(`${server.url}/api/trpc/host.list`, { headers: { cookie: stolen } });
    expect(replay.status).toBe(401);
  });

  test("a cookie-authenticated POST from another origin is refused", async () => {
    const user = await createTestUser({ db: server.db, role: "admin" });
    const cookies = new CookieJar();
    await createTestClient(server.url, { cookies }).auth.signIn.mutate({
      email: user.email,
      password: user.password,
    });
    const response = await fetch(`${server.url}/api/trpc/joinToken.create`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: cookies.header(),
        origin: "https://evil.example",
      },
      body: JSON.stringify({ json: {} }),
    });
    expect(response.status).toBe(401);
    expect(JSON.stringify(await response.json())).toContain("cross-site request refused");
  });

  test("a disabled account cannot sign in", async () => {
    const user = await createTestUser({ db: server.db, role: "viewer", disabled: true });
    const error = await createTestClient(server.url)
      .auth.signIn.mutate({ email: user.email, password: user.password })
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(error)).toBe("FORBIDDEN");
  });

  test("repeated wrong passwords from one address make that address wait before the next try", async () => {
    const user = await createTestUser({ db: server.db, role: "viewer" });
    const client = createTestClient(server.url);
    for (let attempt = 0; attempt < 5; attempt++) {
      const error = await client.auth.signIn
        .mutate({ email: user.email, password: "wrong-password" })
        .catch((caught: unknown) => caught);
      expect(trpcErrorCode(error)).toBe("UNAUTHORIZED");
    }
    const waiting = await client.auth.signIn
      .mutate({ email: user.email, password: user.password })
      .catch((caught: unknown) => caught);
    expect(trpcErrorCode(waiting)).toBe("TOO_MANY_REQUESTS");
    expect((waiting as Error).message).toMatch(
      /^too many failed sign-ins for this account from your address: try again in \d+ s$/,
    );
  });
});
