// The API and the agent socket together: a join token made through the API
// lets a (protocol-level) agent join, the host shows up in the API, and
// removing it through the API disconnects the agent for good.
import { connectFakeAgent, FakeAgentRefusedError } from "@fleet/test/harness/fake-agent";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestUserWithToken } from "../../testing/factories";
import { createTestClient, startTestServer, type TestServer } from "../../testing/test-server";

describe("host lifecycle", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let admin: ReturnType<typeof createTestClient>;

  beforeAll(async () => {
    server = await startTestServer({ databaseUrl: getDatabase().url });
    admin = createTestClient(server.url, {
      bearer: (await createTestUserWithToken({ db: server.db, role: "admin" })).token,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  test("join with an API-made token, appear in host.list, be cut off by host.remove", async () => {
    const { token, command } = await admin.joinToken.create.mutate({ labels: { zone: "b" } });
    expect(command).toContain(token);
    const agent = await connectFakeAgent({ url: server.url, joinToken: token, name: "lifecycle-host" });

    const listed = await admin.host.list.query({ label: "zone=b" });
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ id: agent.hostId, name: "lifecycle-host", status: "online" });
    expect(server.fleet.services.gateway.isConnected(agent.hostId)).toBe(true);
    const [usedToken] = (await admin.joinToken.list.query()).items;
    expect(usedToken).toMatchObject({ state: "used", usedByHostId: agent.hostId });

    const closed = agent.waitForClose();
    await admin.host.remove.mutate({ id: agent.hostId });
    expect((await closed).code).toBe(4410);

    // The credential it got on joining no longer works.
    const again = await connectFakeAgent({
      url: server.url,
      credential: { hostId: agent.hostId, credential: agent.credential },
    }).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(FakeAgentRefusedError);
    // 4410: the gateway tells a removed host it is gone, not merely unauthorized.
    expect((again as FakeAgentRefusedError).closeCode).toBe(4410);
  });
});
