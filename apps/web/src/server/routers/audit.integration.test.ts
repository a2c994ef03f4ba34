// The audit events: every change to who may do what is an `audit.…` event
// naming the actor, the address the request came from and the target, never a
// secret; access.changed goes out where credentials lose power; and only
// administrators see audit events, in event.list and event.stream alike.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BusTopics, createEventBus, type EventBus } from "../events/event-bus";
import { recordEvent } from "../events/record-event";
import { createTestUser, createTestUserWithToken } from "../testing/factories";
import { CookieJar, createTestClient, startTestServer, type TestServer } from "../testing/test-server";
import type { AppRouter } from "./_app";
import { createSseTestClient, recordSubscription } from "./event/testing/sse-test-client";

// The server trusts the proxy header, so each client can say where it is.
const ADMIN_ADDRESS = "203.0.113.7";
const VIEWER_ADDRESS = "198.51.100.23";

function clientFrom(url: string, bearer: string, address: string) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer: superjson,
        headers: { authorization: `Bearer ${bearer}`, "x-forwarded-for": address },
      }),
    ],
  });
}

describe("the audit events", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let bus: EventBus;
  let admin: Awaited<ReturnType<typeof createTestUserWithToken>>;
  let asAdmin: ReturnType<typeof clientFrom>;
  let adminApiTokenId: string;
  const accessChanged: BusTopics["access.changed"][] = [];

  beforeAll(async () => {
    bus = createEventBus();
    bus.subscribe("access.changed", (payload) => accessChanged.push(payload));
    server = await startTestServer({ databaseUrl: getDatabase().url, bus, env: { FLEET_TRUST_PROXY: "1" } });
    admin = await createTestUserWithToken({ db: server.db, role: "admin" });
    asAdmin = clientFrom(server.url, admin.token, ADMIN_ADDRESS);
    adminApiTokenId = (await server.db.apiToken.findFirstOrThrow({ where: { userId: admin.userId } })).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  const adminActor = () => ({
    userId: admin.userId,
    email: admin.email,
    via: "apiToken",
    apiTokenId: adminApiTokenId,
  });

  async function lastEventId(): Promise<bigint> {
    return (await server.db.event.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? 0n;
  }

  /** Runs `action` and returns the audit events it stored, oldest first. */
  async function auditedBy(action: () => Promise<unknown>) {
    const before = await lastEventId();
    accessChanged.length = 0;
    await action();
    return server.db.event.findMany({
      where: { id: { gt: before }, kind: { startsWith: "audit." } },
      orderBy: { id: "asc" },
      select: { kind: true, severity: true, message: true, data: true },
    });
  }

  test("each change of a user is one event with actor, address and target, and no password", async () => {
    const password = "carols-first-password";
    let carolId = "";
    const created = await auditedBy(async () => {
      carolId = (
        await asAdmin.user.create.mutate({
          email: "carol@example.test",
          name: "Carol",
          role: "operator",
          password,
        })
      ).id;
    });
    expect(created).toEqual([
      {
        kind: "audit.user.created",
        severity: "info",
        message: `${admin.email} created the user carol@example.test with the role operator — from ${ADMIN_ADDRESS}`,
        data: {
          actor: adminActor(),
          clientAddress: ADMIN_ADDRESS,
          target: { userId: carolId, email: "carol@example.test", role: "operator" },
        },
      },
    ]);
    expect(JSON.stringify(created)).not.toContain(password);
    expect(accessChanged).toEqual([]);

    const demoted = await auditedBy(() => asAdmin.user.update.mutate({ id: carolId, role: "viewer" }));
    expect(demoted).toMatchObject([
      {
        kind: "audit.user.role-changed",
        message: `${admin.email} changed the role of carol@example.test from operator to viewer — from ${ADMIN_ADDRESS}`,
        data: {
          actor: adminActor(),
          clientAddress: ADMIN_ADDRESS,
          target: { userId: carolId, email: "carol@example.test", role: "viewer", previousRole: "operator" },
        },
      },
    ]);
    expect(accessChanged).toEqual([{ userId: carolId }]);

    const newPassword = "carols-second-password";
    const passwordChanged = await auditedBy(() =>
      asAdmin.user.update.mutate({ id: carolId, password: newPassword }),
    );
    expect(passwordChanged).toMatchObject([
      {
        kind: "audit.user.password-changed",
        data: { actor: adminActor(), clientAddress: ADMIN_ADDRESS, target: { userId: carolId } },
      },
    ]);
    expect(JSON.stringify(passwordChanged)).not.toContain(newPassword);
    const { passwordHash } = await server.db.user.findUniqueOrThrow({ where: { id: carolId } });
    expect(JSON.stringify(passwordChanged)).not.toContain(passwordHash);
    expect(accessChanged).toEqual([{ userId: carolId }]);

    const disabledAndRenamed = await auditedBy(() =>
      asAdmin.user.update.mutate({
        id: carolId,
        disabled: true,
        email: "carol.b@example.test",
        name: "Carol B",
      }),
    );
    expect(disabledAndRenamed.map((event) => event.kind)).toEqual([
      "audit.user.email-changed",
      "audit.user.disabled",
    ]);
    expect(disabledAndRenamed[0]?.data).toMatchObject({
      target: { email: "carol.b@example.test", previousEmail: "carol@example.test" },
    });
    expect(accessChanged).toEqual([{ userId: carolId }]);

    // Asking for what already is changes nothing, and records nothing.
    expect(await auditedBy(() => asAdmin.user.update.mutate({ id: carolId, disabled: true }))).toEqual([]);
    expect(accessChanged).toEqual([]);
    expect(await auditedBy(() => asAdmin.user.update.mutate({ id: carolId, name: "Carol C" }))).toEqual([]);

    const enabled = await auditedBy(() => asAdmin.user.update.mutate({ id: carolId, disabled: false }));
    expect(enabled.map((event) => event.kind)).toEqual(["audit.user.enabled"]);
    // Enabling takes nothing away from anyone.
    expect(accessChanged).toEqual([]);

    const removed = await auditedBy(() => asAdmin.user.remove.mutate({ id: carolId }));
    expect(removed).toMatchObject([
      {
        kind: "audit.user.removed",
        message: `${admin.email} removed the user carol.b@example.test — from ${ADMIN_ADDRESS}`,
        data: {
          actor: adminActor(),
          target: { userId: carolId, email: "carol.b@example.test", role: "viewer" },
        },
      },
    ]);
    expect(accessChanged).toEqual([{ userId: carolId }]);
  });

  test("API tokens: creation and revocation are audited without the secret; revoking tells open streams", async () => {
    const dave = await createTestUser({ db: server.db, role: "viewer" });
    let token = "";
    let tokenId = "";
    const created = await auditedBy(async () => {
      const answer = await asAdmin.apiToken.create.mutate({
        name: "daves ci",
        expiresIn: "30d",
        userId: dave.id,
      });
      token = answer.token;
      tokenId = answer.apiToken.id;
    });
    const row = await server.db.apiToken.findUniqueOrThrow({ where: { id: tokenId } });
    expect(created).toEqual([
      {
        kind: "audit.api-token.created",
        severity: "info",
        message: `${admin.email} created the API token "daves ci" (${row.prefix}) for ${dave.email}, expiring ${row.expiresAt?.toISOString()} — from ${ADMIN_ADDRESS}`,
        data: {
          actor: adminActor(),
          clientAddress: ADMIN_ADDRESS,
          target: {
            userId: dave.id,
            email: dave.email,
            apiTokenId: tokenId,
            apiTokenName: "daves ci",
            apiTokenPrefix: row.prefix,
            expiresAt: row.expiresAt?.toISOString(),
          },
        },
      },
    ]);
    expect(JSON.stringify(created)).not.toContain(token);
    expect(JSON.stringify(created)).not.toContain(row.tokenHash);

    // Dave, signed in through the browser, revokes it himself.
    const browser = createTestClient(server.url, { cookies: new CookieJar() });
    await browser.auth.signIn.mutate({ email: dave.email, password: dave.password });
    const revoked = await auditedBy(() => browser.apiToken.revoke.mutate({ id: tokenId }));
    expect(revoked).toMatchObject([
      {
        kind: "audit.api-token.revoked",
        message: `${dave.email} revoked their API token "daves ci" (${row.prefix}) — from 127.0.0.1`,
        data: {
          actor: { userId: dave.id, email: dave.email, via: "session" },
          clientAddress: "127.0.0.1",
          target: { userId: dave.id, apiTokenId: tokenId, apiTokenPrefix: row.prefix },
        },
      },
    ]);
    expect(JSON.stringify(revoked)).not.toContain(token);
    expect(accessChanged).toEqual([{ userId: dave.id, apiTokenId: tokenId }]);

    // Revoking again changes nothing: no event, no signal.
    expect(await auditedBy(() => browser.apiToken.revoke.mutate({ id: tokenId }))).toEqual([]);
    expect(accessChanged).toEqual([]);
  });

  test("a join token's creation is audited without the secret", async () => {
    let answer: { id: string; token: string; expiresAt: Date } | undefined;
    const created = await auditedBy(async () => {
      answer = await asAdmin.joinToken.create.mutate({ ttl: "15m", labels: { zone: "b" } });
    });
    const { id, token, expiresAt } = answer!;
    expect(created).toEqual([
      {
        kind: "audit.join-token.created",
        severity: "info",
        message: `${admin.email} created a join token valid until ${expiresAt.toISOString()} with labels zone=b — from ${ADMIN_ADDRESS}`,
        data: {
          actor: adminActor(),
          clientAddress: ADMIN_ADDRESS,
          target: { joinTokenId: id, expiresAt: expiresAt.toISOString(), labels: { zone: "b" } },
        },
      },
    ]);
    const { tokenHash } = await server.db.joinToken.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(created)).not.toContain(token);
    expect(JSON.stringify(created)).not.toContain(tokenHash);
  });

  describe("visible to administrators only", () => {
    let viewer: Awaited<ReturnType<typeof createTestUserWithToken>>;
    let operator: Awaited<ReturnType<typeof createTestUserWithToken>>;

    beforeAll(async () => {
      viewer = await createTestUserWithToken({ db: server.db, role: "viewer" });
      operator = await createTestUserWithToken({ db: server.db, role: "operator" });
    });

    test("event.list: viewers and operators never get audit events, whatever they filter on; admins do", async () => {
      // The viewer makes an audit event of their own, from their own address.
      await clientFrom(server.url, viewer.token, VIEWER_ADDRESS).apiToken.create.mutate({ name: "mine" });
      await recordEvent({ db: server.db, kind: "list-check.plain", message: "not audit" });

      for (const { token } of [viewer, operator]) {
        const client = clientFrom(server.url, token, VIEWER_ADDRESS);
        const all = await client.event.list.query({ limit: 500 });
        expect(all.items.map((event) => event.kind)).toContain("list-check.plain");
        expect(all.items.filter((event) => event.kind.startsWith("audit."))).toEqual([]);
        expect((await client.event.list.query({ kindPrefix: "audit." })).items).toEqual([]);
        expect((await client.event.list.query({ kindPrefix: "audit.api-token.created" })).items).toEqual([]);
        expect((await client.event.list.query({ kindPrefix: "a" })).items).toEqual([]);
      }

      const audit = await asAdmin.event.list.query({ kindPrefix: "audit.", limit: 500 });
      expect(audit.items.length).toBeGreaterThan(0);
      expect(audit.items.every((event) => event.kind.startsWith("audit."))).toBe(true);
      expect(audit.items[0]).toMatchObject({
        kind: "audit.api-token.created",
        data: { actor: { userId: viewer.userId }, clientAddress: VIEWER_ADDRESS },
      });
      const everything = await asAdmin.event.list.query({ limit: 500 });
      expect(everything.items.map((event) => event.kind)).toEqual(
        expect.arrayContaining(["list-check.plain", "audit.api-token.created"]),
      );
    });

    test("event.stream: live and replayed, viewers and operators get no audit events; admins do", async () => {
      const start = (await lastEventId()).toString();
      const subscribe = (token: string, input: { kindPrefix?: string; lastEventId?: string } = {}) => {
        const client = createSseTestClient<AppRouter>(server.url, token);
        return recordSubscription<{ id: string; kind: string }>((handlers) =>
          client.event.stream.subscribe(input, handlers),
        );
      };
      const streams = {
        viewer: subscribe(viewer.token),
        operator: subscribe(operator.token),
        viewerProbing: subscribe(viewer.token, { kindPrefix: "audit." }),
        admin: subscribe(admin.token),
        adminAudit: subscribe(admin.token, { kindPrefix: "audit." }),
      };
      // Every stream is live once a marker published now reaches it; keep publishing until all have one.
      const markers: string[] = [];
      const live = () =>
        [streams.viewer, streams.operator, streams.admin].every((stream) =>
          stream.items.some((item) => markers.includes(item.id ?? "")),
        );
      for (let attempt = 0; attempt < 100 && !live(); attempt++) {
        const marker = await recordEvent({
          db: server.db,
          bus,
          kind: "stream-check.marker",
          message: "marker",
        });
        markers.push(marker.id.toString());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(live()).toBe(true);

      const { token: secret } = await asAdmin.apiToken.create.mutate({
        name: "streamed",
        userId: viewer.userId,
      });
      const after = await recordEvent({ db: server.db, bus, kind: "stream-check.after", message: "after" });
      const afterId = after.id.toString();
      for (const stream of [streams.viewer, streams.operator, streams.admin]) {
        await stream.waitFor((items) => items.some((item) => item.id === afterId));
      }
      await streams.adminAudit.waitFor((items) =>
        items.some((item) => item.kind === "audit.api-token.created"),
      );

      const kindsOf = (stream: (typeof streams)[keyof typeof streams]) =>
        stream.items.map((item) => item.data.kind);
      expect(kindsOf(streams.viewer).filter((kind) => kind.startsWith("audit."))).toEqual([]);
      expect(kindsOf(streams.operator).filter((kind) => kind.startsWith("audit."))).toEqual([]);
      expect(kindsOf(streams.viewerProbing)).toEqual([]);
      expect(kindsOf(streams.admin)).toContain("audit.api-token.created");
      expect(kindsOf(streams.adminAudit)).toEqual(["audit.api-token.created"]);
      expect(JSON.stringify(streams.admin.items)).not.toContain(secret);
      for (const stream of Object.values(streams)) stream.unsubscribe();

      // A reconnect replays from the database: the same rule holds there.
      const replays = {
        viewer: subscribe(viewer.token, { lastEventId: start }),
        operator: subscribe(operator.token, { lastEventId: start }),
        admin: subscribe(admin.token, { lastEventId: start }),
      };
      for (const stream of Object.values(replays)) {
        await stream.waitFor((items) => items.some((item) => item.id === afterId));
      }
      expect(kindsOf(replays.viewer).filter((kind) => kind.startsWith("audit."))).toEqual([]);
      expect(kindsOf(replays.operator).filter((kind) => kind.startsWith("audit."))).toEqual([]);
      expect(kindsOf(replays.admin)).toContain("audit.api-token.created");
      for (const stream of Object.values(replays)) stream.unsubscribe();
    });
  });
});
