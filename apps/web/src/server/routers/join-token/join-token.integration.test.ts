import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";
import { hashToken } from "../../tokens";

describe("joinToken", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof createTestUserWithToken>>;

  beforeAll(async () => {
    server = await startTestServer({
      databaseUrl: getDatabase().url,
      env: { FLEET_PUBLIC_URL: "https://central.example.test:8443/" },
    });
    admin = await createTestUserWithToken({ db: server.db, role: "admin" });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("create returns the token once, in the exact command to run on the host", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const before = Date.now();
    const created = await asAdmin.joinToken.create.mutate({});

    expect(created.token).toMatch(/^fleet_join_[A-Za-z0-9_-]{43}$/);
    // The agent port on FLEET_PUBLIC_URL's host, pinned to the central's key.
    const { publicUrl, pin } = server.fleet.agentEndpoint;
    expect(publicUrl).toBe(`https://central.example.test:${new URL(server.fleet.agentUrl).port}`);
    expect(created.command).toBe(
      `curl -fsSLk --pinnedpubkey '${pin}' ${publicUrl}/install.sh | sudo sh -s -- --join-token ${created.token} --server-pin '${pin}'`,
    );
    // Default TTL: one hour.
    expect(created.expiresAt.getTime() - before).toBeGreaterThan(3_590_000);
    expect(created.expiresAt.getTime() - before).toBeLessThan(3_610_000);
    const stored = await server.db.joinToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored).toMatchObject({
      tokenHash: hashToken(created.token),
      createdById: admin.userId,
      usedAt: null,
    });
  });

  test("labels go into the token and onto the command line, in key order", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const created = await asAdmin.joinToken.create.mutate({
      ttl: "15m",
      labels: { zone: "eu-1", "fleet.example/disk": "ssd" },
    });
    expect(created.command).toMatch(
      new RegExp(
        ` --join-token ${created.token} --server-pin '[^']+' --label fleet.example/disk=ssd --label zone=eu-1$`,
      ),
    );
    const stored = await server.db.joinToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(stored.labels).toEqual({ zone: "eu-1", "fleet.example/disk": "ssd" });
    expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBe(15 * 60_000);
  });

  test("list shows state, creator and the host that used a token, never the secret", async () => {
    const asAdmin = createTestClient(server.url, { bearer: admin.token });
    const active = await asAdmin.joinToken.create.mutate({});
    const used = await asAdmin.joinToken.create.mutate({});
    const expired = await asAdmin.joinToken.create.mutate({});
    const host = await createTestHost(server.db);
    await server.db.joinToken.update({
      where: { id: used.id },
      data: { usedAt: new Date(), usedByHostId: host.id },
    });
    await server.db.joinToken.update({
      where: { id: expired.id },
      data: { expiresAt: new Date(Date.now() - 1) },
    });

    const listed = await asAdmin.joinToken.list.query();
    const byId = new Map(listed.items.map((item) => [item.id, item]));
    expect(byId.get(active.id)).toMatchObject({
      state: "active",
      createdByEmail: admin.email,
      usedByHostId: null,
    });
    expect(byId.get(used.id)).toMatchObject({
      state: "used",
      usedByHostId: host.id,
      usedByHostName: host.name,
    });
    expect(byId.get(expired.id)).toMatchObject({ state: "expired" });
    const text = JSON.stringify(listed);
    for (const secret of [active.token, used.token, expired.token]) expect(text).not.toContain(secret);

    const onlyActive = await asAdmin.joinToken.list.query({ activeOnly: true });
    expect(onlyActive.items.every((item) => item.state === "active")).toBe(true);
    expect(onlyActive.items.map((item) => item.id)).toContain(active.id);
  });
});
