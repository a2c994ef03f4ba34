import { systemClock } from "@fleet/shared/clock";
import { createTestDatabase, type TestDatabase } from "@fleet/test/harness/postgres";
import { TRPCClientError } from "@trpc/client";
import { afterEach, describe, expect, test } from "vitest";
import { createPrismaClient } from "../../db/client";
import { loadEnv } from "../../env";
import {
  CookieJar,
  captureLog,
  createTestClient,
  startTestServer,
  type TestServer,
} from "../../testing/test-server";
import { generateToken, hashToken } from "../../tokens";
import { bootstrapFirstAdmin } from "./bootstrap";

// Each case needs an empty database: the bootstrap only acts on one.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function freshDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return database;
}

async function start(database: TestDatabase, env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ databaseUrl: database.url, env });
  cleanups.push(() => server.close());
  return server;
}

function emailOf(server: TestServer): string {
  const { bootstrap } = server.fleet;
  if (!bootstrap.created) throw new Error("no administrator was created");
  return bootstrap.email;
}

describe("first start", () => {
  test("with FLEET_BOOTSTRAP_TOKEN, that token is an administrator's API token", async () => {
    const database = await freshDatabase();
    const token = generateToken("api");
    const server = await start(database, { FLEET_BOOTSTRAP_TOKEN: token });

    expect(server.fleet.bootstrap).toMatchObject({ created: true, credential: "token" });
    const adminEmail = emailOf(server);
    expect(adminEmail).toMatch(/^admin-[0-9a-f]{10}@fleet\.local$/);
    const me = await createTestClient(server.url, { bearer: token }).auth.me.query();
    expect(me).toEqual({
      user: expect.objectContaining({ email: adminEmail, role: "admin" }),
      via: "apiToken",
    });
    // Only the hash is stored.
    const stored = await server.db.apiToken.findMany({ select: { tokenHash: true, name: true } });
    expect(stored).toEqual([{ tokenHash: hashToken(token), name: "bootstrap" }]);
    // An admin-only procedure works with it.
    const users = await createTestClient(server.url, { bearer: token }).user.list.query();
    expect(users.items.map((user) => user.email)).toEqual([adminEmail]);
    // No password was printed.
    expect(server.log.text()).not.toMatch(/password/);
  });

  test("without a token, a generated password is printed once and signs in", async () => {
    const database = await freshDatabase();
    const server = await start(database);

    expect(server.fleet.bootstrap).toMatchObject({ created: true, credential: "password" });
    const adminEmail = emailOf(server);
    const printed = /with the password (\S+)/.exec(server.log.text());
    expect(printed?.[1]).toBeDefined();
    expect(server.log.text()).toContain(`sign in at http://fleet.test:3000 as ${adminEmail}`);

    const cookies = new CookieJar();
    const client = createTestClient(server.url, { cookies });
    const signedIn = await client.auth.signIn.mutate({
      email: adminEmail,
      password: printed![1]!,
    });
    expect(signedIn.user.role).toBe("admin");
    expect(cookies.cookies.has("fleet_session")).toBe(true);
    expect(await client.auth.me.query()).toMatchObject({
      user: { email: adminEmail },
      via: "session",
    });
  });

  test("a restart creates nobody and prints nothing", async () => {
    const database = await freshDatabase();
    const first = await start(database);
    await first.close();
    const second = await start(database);

    expect(second.fleet.bootstrap).toEqual({ created: false });
    expect(second.log.text()).not.toMatch(/password/);
    expect(await second.db.user.count()).toBe(1);
  });

  test("centrals starting together create one administrator", async () => {
    const database = await freshDatabase();
    const env = loadEnv({ FLEET_PUBLIC_URL: "http://fleet.test:3000" });
    const clients = Array.from({ length: 4 }, () => createPrismaClient(database.url));
    cleanups.push(async () => {
      await Promise.all(clients.map((client) => client.$disconnect()));
    });
    const results = await Promise.all(
      clients.map((db) => bootstrapFirstAdmin({ db, env, log: captureLog().logger, clock: systemClock })),
    );
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await clients[0]!.user.count()).toBe(1);
  });

  test("FLEET_ADMIN_EMAIL names the administrator; without it, two centrals make up different emails", async () => {
    const named = await start(await freshDatabase(), { FLEET_ADMIN_EMAIL: "Ops@Example.test" });
    expect(emailOf(named)).toBe("ops@example.test");
    const first = emailOf(await start(await freshDatabase()));
    const second = emailOf(await start(await freshDatabase()));
    expect(first).not.toBe(second);
  });
});

describe("sign-in", () => {
  test("a wrong password is UNAUTHORIZED and sets no cookie", async () => {
    const database = await freshDatabase();
    const server = await start(database);
    const adminEmail = emailOf(server);
    const cookies = new CookieJar();
    const client = createTestClient(server.url, { cookies });

    const error = await client.auth.signIn
      .mutate({ email: adminEmail, password: "not-the-password" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).data).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect((error as TRPCClientError<never>).message).toBe("wrong email or password");
    expect(cookies.cookies.size).toBe(0);

    // An unknown account gets the very same answer.
    const unknown = await client.auth.signIn
      .mutate({ email: "nobody@example.test", password: "whatever-it-is" })
      .then(
        () => null,
        (caught: unknown) => caught as TRPCClientError<never>,
      );
    expect(unknown?.message).toBe("wrong email or password");
  });
});
