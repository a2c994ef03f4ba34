// The attacks a probe of the running central made, each replayed as it was
// made (raw HTTP where a client library would have stopped it): batched and
// parallel sign-ins, locking out someone else, cross-site GETs and form
// posts riding on the session cookie, streams that outlive their credential,
// a short-lived token minting a permanent one, an open /metrics, and the
// browser hardening headers.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUser, createTestUserWithToken } from "./testing/factories";
import {
  CookieJar,
  createTestClient,
  startTestServer,
  type TestServer,
  trpcErrorCode,
} from "./testing/test-server";

const EVIL = "https://evil.example";

/** Signs in through the API as a browser on the dashboard would; returns its cookie header. */
async function signedInCookie(
  server: TestServer,
  user: { email: string; password: string },
): Promise<string> {
  const cookies = new CookieJar();
  await createTestClient(server.url, { cookies }).auth.signIn.mutate(user);
  return cookies.header();
}

function signInBody(email: string, password: string) {
  return JSON.stringify({ json: { email, password } });
}

/** One sign-in as raw HTTP, from `address` when the server trusts X-Forwarded-For. */
async function rawSignIn(server: TestServer, email: string, password: string, address?: string) {
  const response = await fetch(`${server.url}/api/trpc/auth.signIn`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(address ? { "x-forwarded-for": address } : {}) },
    body: signInBody(email, password),
  });
  const body = (await response.json()) as { error?: { json: { message: string; data: { code: string } } } };
  return {
    status: response.status,
    code: body.error?.json.data.code ?? "OK",
    message: body.error?.json.message,
  };
}

/** Opens a subscription as EventSource does (GET, text/event-stream); resolves once the response starts. */
async function openStream(
  server: TestServer,
  path: string,
  headers: Record<string, string>,
  input: unknown = {},
): Promise<{ status: number; ended: Promise<number>; text: () => string; cancel: () => void }> {
  const controller = new AbortController();
  const query = new URLSearchParams({ input: JSON.stringify({ json: input }) });
  const response = await fetch(`${server.url}/api/trpc/${path}?${query}`, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  let text = "";
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // A connection the server destroyed ends the read with an error: ended all the same.
    }
    return Date.now();
  })();
  return { status: response.status, ended, text: () => text, cancel: () => controller.abort() };
}

async function waitForText(stream: { text: () => string }, pattern: RegExp, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(stream.text())) {
    if (Date.now() > deadline) throw new Error(`stream never showed ${pattern}; it has: ${stream.text()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("security", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;

  beforeAll(async () => {
    // Behind a proxy: X-Forwarded-For names the client, so one test process can be many addresses.
    server = await startTestServer({ databaseUrl: getDatabase().url, env: { FLEET_TRUST_PROXY: "1" } });
  });
  afterAll(async () => {
    await server?.close();
  });

  describe("sign-in", () => {
    test("a batch of sign-ins is refused whole, before any password is checked", async () => {
      const user = await createTestUser({ db: server.db, role: "admin" });
      const guesses = [...Array.from({ length: 29 }, (_, i) => `wrong-${i}`), user.password];
      const paths = guesses.map(() => "auth.signIn").join(",");
      const body = Object.fromEntries(
        guesses.map((password, i) => [i, { json: { email: user.email, password } }]),
      );
      const tooLarge = await fetch(`${server.url}/api/trpc/${paths}?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.10" },
        body: JSON.stringify(body),
      });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.headers.getSetCookie()).toEqual([]);

      // Within the batch size, a sign-in still may not share a batch.
      const pair = await fetch(`${server.url}/api/trpc/auth.signIn,auth.signIn?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.10" },
        body: JSON.stringify({
          0: { json: { email: user.email, password: "wrong" } },
          1: { json: { email: user.email, password: user.password } },
        }),
      });
      expect(pair.status).toBe(400);
      expect(JSON.stringify(await pair.json())).toContain("must be sent alone");
      expect(await server.db.session.count({ where: { userId: user.id } })).toBe(0);

      // A batch of ordinary calls still works.
      const { token } = await createTestUserWithToken({ db: server.db, role: "viewer" });
      const ordinary = await fetch(
        `${server.url}/api/trpc/health,host.list?batch=1&input=${encodeURIComponent("{}")}`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(ordinary.status).toBe(200);
    });

    test("parallel sign-ins are counted before the password check: only the free attempts reach it", async () => {
      const user = await createTestUser({ db: server.db, role: "admin" });
      const address = "192.0.2.20";
      const guesses = [...Array.from({ length: 29 }, (_, i) => `wrong-${i}`), user.password];
      const answers = await Promise.all(
        guesses.map((password) => rawSignIn(server, user.email, password, address)),
      );
      const codes = answers.map((answer) => answer.code);
      expect(codes.filter((code) => code === "UNAUTHORIZED")).toHaveLength(5);
      expect(codes.filter((code) => code === "TOO_MANY_REQUESTS")).toHaveLength(25);
      expect(await server.db.session.count({ where: { userId: user.id } })).toBe(0);
      const refused = answers.find((answer) => answer.code === "TOO_MANY_REQUESTS");
      expect(refused?.message).toMatch(/for this account from your address: try again in \d+ s$/);
    });

    test("a stranger's wrong passwords do not lock the owner out", async () => {
      const owner = await createTestUser({ db: server.db, role: "admin" });
      for (let i = 0; i < 30; i++) await rawSignIn(server, owner.email, `guess-${i}`, "203.0.113.66");
      expect((await rawSignIn(server, owner.email, owner.password, "203.0.113.66")).code).toBe(
        "TOO_MANY_REQUESTS",
      );
      // The owner, from their own address, with the right password: in at once.
      expect(await rawSignIn(server, owner.email, owner.password, "198.51.100.5")).toMatchObject({
        status: 200,
        code: "OK",
      });
    });

    test("one address spraying many accounts is slowed for every account", async () => {
      const address = "192.0.2.30";
      const answers = [];
      for (let i = 0; i < 22; i++)
        answers.push(await rawSignIn(server, `nobody-${i}@example.test`, "pw", address));
      expect(answers.slice(0, 20).map((answer) => answer.code)).toEqual(Array(20).fill("UNAUTHORIZED"));
      expect(answers[20]).toMatchObject({ code: "TOO_MANY_REQUESTS" });
      expect(answers[20]!.message).toMatch(/from your address: try again/);
    });

    test("failed and throttled sign-ins are audited once each, without the password", async () => {
      const user = await createTestUser({ db: server.db, role: "viewer" });
      const address = "192.0.2.50";
      for (let i = 0; i < 8; i++) await rawSignIn(server, user.email, `secret-guess-${i}`, address);
      // Someone typing their password into the email field.
      await rawSignIn(server, "hunter2 is my password", "x", address);
      const events = await server.db.event.findMany({
        where: { kind: { startsWith: "audit.sign-in" }, data: { path: ["clientAddress"], equals: address } },
        orderBy: { id: "asc" },
      });
      expect(events.map((event) => event.kind)).toEqual([
        ...Array(5).fill("audit.sign-in.failed"),
        "audit.sign-in.throttled",
        "audit.sign-in.failed",
      ]);
      expect(events.at(-1)!.data).toMatchObject({ target: {} });
      expect(events[0]!.data).toMatchObject({
        actor: null,
        clientAddress: address,
        target: { email: user.email, userId: user.id },
        reason: "wrong email or password",
      });
      const stored = JSON.stringify(events.map((event) => [event.message, event.data]));
      expect(stored).not.toContain("secret-guess");
      expect(stored).not.toContain("hunter2");
    });

    test("another site cannot sign a visitor's browser in", async () => {
      const user = await createTestUser({ db: server.db, role: "viewer" });
      const response = await fetch(`${server.url}/api/trpc/auth.signIn`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: EVIL },
        body: signInBody(user.email, user.password),
      });
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    test("the session cookie is SameSite=Strict", async () => {
      const user = await createTestUser({ db: server.db, role: "viewer" });
      const response = await fetch(`${server.url}/api/trpc/auth.signIn`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: signInBody(user.email, user.password),
      });
      expect(response.headers.getSetCookie()[0]).toMatch(/; HttpOnly; SameSite=Strict$/);
    });
  });

  test("calls without credentials share a budget per address", async () => {
    const limited = await startTestServer({
      databaseUrl: getDatabase().url,
      env: { FLEET_TRUST_PROXY: "1" },
      tuning: { anonymousCalls: { points: 20, durationSeconds: 60 } },
    });
    try {
      const health = (headers: Record<string, string>) =>
        fetch(`${limited.url}/api/trpc/health`, { headers }).then((response) => response.status);
      const from = { "x-forwarded-for": "192.0.2.40" };
      const statuses = [];
      for (let i = 0; i < 21; i++) statuses.push(await health(from));
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(200));
      expect(statuses[20]).toBe(429);
      // Bad tokens count as no credentials.
      expect(await health({ ...from, authorization: "Bearer fleet_api_not-a-token" })).toBe(429);
      expect(await health({ "x-forwarded-for": "192.0.2.41" })).toBe(200);
      const { token } = await createTestUserWithToken({ db: limited.db, role: "viewer" });
      expect(await health({ ...from, authorization: `Bearer ${token}` })).toBe(200);
    } finally {
      await limited.close();
    }
  });

  describe("cross-site requests with the session cookie", () => {
    let cookie: string;
    beforeAll(async () => {
      const operator = await createTestUser({ db: server.db, role: "operator" });
      cookie = await signedInCookie(server, operator);
    });

    test("a subscription opened from another site, with or without Origin, gets nothing", async () => {
      const attempts: Record<string, string>[] = [
        { cookie, origin: EVIL },
        { cookie, "sec-fetch-site": "cross-site" },
        { cookie, "sec-fetch-site": "same-site" },
        { cookie, origin: "null" },
        // Neither Origin nor Sec-Fetch-Site: no browser sends that, so a cookie alone proves nothing.
        { cookie },
      ];
      for (const headers of attempts) {
        const stream = await openStream(server, "event.stream", headers);
        await stream.ended;
        expect(stream.text(), JSON.stringify(headers)).toContain("cross-site request refused");
        expect(stream.text()).toContain('"code":"UNAUTHORIZED"');
      }
    });

    test("the same subscription from the dashboard's own origin streams", async () => {
      const attempts: Record<string, string>[] = [
        { cookie, "sec-fetch-site": "same-origin" },
        { cookie, origin: server.url },
      ];
      for (const headers of attempts) {
        const stream = await openStream(server, "event.stream", headers);
        expect(stream.status).toBe(200);
        await waitForText(stream, /: ping|event: connected|retry:/);
        expect(stream.text()).not.toContain("UNAUTHORIZED");
        stream.cancel();
      }
    });

    test("a GET query from another site is refused, and the old pull-by-GET starts nothing", async () => {
      const list = await fetch(
        `${server.url}/api/trpc/container.list?input=${encodeURIComponent('{"json":{}}')}`,
        {
          headers: { cookie, origin: EVIL },
        },
      );
      expect(list.status).toBe(401);
      const pull = await fetch(
        `${server.url}/api/trpc/image.pull?input=${encodeURIComponent(JSON.stringify({ json: { image: "busybox", all: true } }))}`,
        { headers: { cookie, "sec-fetch-site": "cross-site", accept: "text/event-stream" } },
      );
      expect(pull.status).not.toBe(200);
      const pulls = await server.db.event.count({ where: { kind: { startsWith: "image.pull" } } });
      expect(pulls).toBe(0);
    });

    test("form encodings are refused on every tRPC route, before anything runs", async () => {
      const form = new FormData();
      form.set("json", "{}");
      for (const body of [
        form,
        new URLSearchParams({ json: "{}" }),
        new Blob(['{"json":{}}'], { type: "text/plain" }),
      ]) {
        const response = await fetch(`${server.url}/api/trpc/joinToken.create`, {
          method: "POST",
          headers: { cookie, origin: server.url },
          body,
        });
        expect(response.status).toBe(415);
        expect(JSON.stringify(await response.json())).toContain("send the input as JSON");
      }
      expect(await server.db.joinToken.count()).toBe(0);
    });
  });

  describe("open streams close when their access ends", () => {
    async function eventStreamOf(headers: Record<string, string>) {
      const stream = await openStream(server, "event.stream", headers);
      expect(stream.status).toBe(200);
      await waitForText(stream, /retry:|: ping|connected/);
      return stream;
    }

    test("revoking the API token closes its stream within a second", async () => {
      const { token } = await createTestUserWithToken({ db: server.db, role: "operator" });
      const client = createTestClient(server.url, { bearer: token });
      const [own] = (await client.apiToken.list.query()).items;
      const stream = await eventStreamOf({ authorization: `Bearer ${token}` });
      const other = await eventStreamOf({
        authorization: `Bearer ${(await createTestUserWithToken({ db: server.db, role: "viewer" })).token}`,
      });

      await client.apiToken.revoke.mutate({ id: own!.id });
      const revokedAt = Date.now();
      expect((await stream.ended) - revokedAt).toBeLessThan(1000);
      // Someone else's stream stays open.
      expect(await Promise.race([other.ended.then(() => "ended"), sleep(300).then(() => "open")])).toBe(
        "open",
      );
      other.cancel();
      // Reconnecting with the revoked token is refused.
      const again = await openStream(server, "event.stream", { authorization: `Bearer ${token}` });
      await again.ended;
      expect(again.text()).toContain("revoked");
    });

    test("signing out closes the session's stream; another session of the same user stays", async () => {
      const user = await createTestUser({ db: server.db, role: "viewer" });
      const cookies = new CookieJar();
      const browser = createTestClient(server.url, { cookies });
      await browser.auth.signIn.mutate(user);
      const laptop = await signedInCookie(server, user);
      const stream = await eventStreamOf({ cookie: cookies.header(), origin: server.url });
      const onLaptop = await eventStreamOf({ cookie: laptop, origin: server.url });

      await browser.auth.signOut.mutate();
      const signedOutAt = Date.now();
      expect((await stream.ended) - signedOutAt).toBeLessThan(1000);
      expect(await Promise.race([onLaptop.ended.then(() => "ended"), sleep(300).then(() => "open")])).toBe(
        "open",
      );
      onLaptop.cancel();
    });

    test("disabling a user closes all of their streams", async () => {
      const user = await createTestUserWithToken({ db: server.db, role: "operator" });
      const admin = await createTestUserWithToken({ db: server.db, role: "admin" });
      const stream = await eventStreamOf({ authorization: `Bearer ${user.token}` });
      await createTestClient(server.url, { bearer: admin.token }).user.update.mutate({
        id: user.userId,
        disabled: true,
      });
      const disabledAt = Date.now();
      expect((await stream.ended) - disabledAt).toBeLessThan(1000);
    });

    test("a change the bus never carried is found by the periodic re-check", async () => {
      const user = await createTestUserWithToken({ db: server.db, role: "operator" });
      const stream = await eventStreamOf({ authorization: `Bearer ${user.token}` });
      // Changed behind the central's back (another replica, or SQL).
      await server.db.user.update({ where: { id: user.userId }, data: { role: "viewer" } });
      expect(await Promise.race([stream.ended.then(() => "ended"), sleep(200).then(() => "open")])).toBe(
        "open",
      );
      await server.fleet.services.streamGuard.recheck();
      await stream.ended;
    });
  });

  test("a short-lived token cannot mint a token that outlives it", async () => {
    const admin = await createTestUser({ db: server.db, role: "admin" });
    const viewer = await createTestUser({ db: server.db, role: "viewer" });
    const browser = createTestClient(server.url, { cookies: new CookieJar() });
    await browser.auth.signIn.mutate(admin);
    const shortLived = await browser.apiToken.create.mutate({ name: "ci", expiresIn: "2m" });
    const asToken = createTestClient(server.url, { bearer: shortLived.token });

    for (const input of [
      { name: "forever" },
      { name: "longer", expiresIn: "1h" },
      { name: "for someone else", userId: viewer.id },
    ]) {
      const error = await asToken.apiToken.create.mutate(input).catch((caught: unknown) => caught);
      expect(trpcErrorCode(error), JSON.stringify(input)).toBe("FORBIDDEN");
      expect((error as Error).message).toMatch(/must expire no later/);
    }
    const within = await asToken.apiToken.create.mutate({ name: "shorter", expiresIn: "1m" });
    expect(within.apiToken.expiresAt!.getTime()).toBeLessThanOrEqual(
      shortLived.apiToken.expiresAt!.getTime(),
    );
    // A session (a person who signed in) still makes long-lived tokens.
    expect((await browser.apiToken.create.mutate({ name: "forever" })).apiToken.expiresAt).toBeNull();
  });

  describe("/metrics", () => {
    const METRICS_TOKEN = "metrics-token-0123456789abcdef";

    test("needs a bearer token: FLEET_METRICS_TOKEN or any valid API token", async () => {
      const guarded = await startTestServer({
        databaseUrl: getDatabase().url,
        env: { FLEET_METRICS_TOKEN: METRICS_TOKEN },
      });
      try {
        const scrape = (authorization?: string) =>
          fetch(`${guarded.url}/metrics`, { headers: authorization ? { authorization } : {} });
        const anonymous = await scrape();
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(await anonymous.text()).not.toContain("fleet_hosts");
        expect((await scrape("Bearer not-the-token")).status).toBe(401);

        const withMetricsToken = await scrape(`Bearer ${METRICS_TOKEN}`);
        expect(withMetricsToken.status).toBe(200);
        expect(await withMetricsToken.text()).toMatch(/^fleet_hosts\{status="online"\} 0$/m);

        const viewer = await createTestUserWithToken({ db: guarded.db, role: "viewer" });
        expect((await scrape(`Bearer ${viewer.token}`)).status).toBe(200);
        await guarded.db.apiToken.updateMany({
          where: { userId: viewer.userId },
          data: { revokedAt: new Date() },
        });
        expect((await scrape(`Bearer ${viewer.token}`)).status).toBe(401);
      } finally {
        await guarded.close();
      }
    });

    test("FLEET_METRICS_PUBLIC=1 opens it", async () => {
      const open = await startTestServer({
        databaseUrl: getDatabase().url,
        env: { FLEET_METRICS_PUBLIC: "1" },
      });
      try {
        expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      } finally {
        await open.close();
      }
    });
  });

  test("every response carries the browser hardening headers", async () => {
    for (const path of ["/api/trpc/health", "/metrics", "/api/uploads", "/nowhere"]) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), path).toBe("same-origin");
      expect(response.headers.get("x-frame-options"), path).toBe("DENY");
      expect(response.headers.get("content-security-policy"), path).toContain("frame-ancestors 'none'");
      // Served over plain HTTP: no HSTS (it would be ignored, and wrong behind no TLS at all).
      expect(response.headers.get("strict-transport-security"), path).toBeNull();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
