import { readFileSync } from "node:fs";
import { request } from "node:https";
import { connect } from "node:net";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { makeTestCertificate } from "@fleet/test/harness/test-certificate";
import { describe, expect, test } from "vitest";
import { createTestUser, createTestUserWithToken } from "./testing/factories";
import { createTestClient, startTestServer } from "./testing/test-server";

describe("the app server", () => {
  const getDatabase = useTestDatabase();

  test("close() stops accepting, cuts a stalled request after the grace period, and resolves", async () => {
    const server = await startTestServer({ databaseUrl: getDatabase().url });
    const { port } = new URL(server.url);
    // A keep-alive connection left idle in the client's pool…
    expect((await createTestClient(server.url).health.query()).status).toBe("ok");
    // …and a client that sent half a request and stalls.
    const stalled = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => stalled.once("connect", () => resolve()));
    stalled.write(
      "POST /api/trpc/auth.signIn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    // Read what arrives, or the socket never sees the server's end.
    stalled.resume();
    const stalledClosed = new Promise<void>((resolve) => stalled.once("close", () => resolve()));

    const started = Date.now();
    await server.close();
    const took = Date.now() - started;
    await stalledClosed;

    // The test server's grace is 1 s: the stalled request held close() about that long, not forever.
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    await expect(fetch(`${server.url}/api/trpc/health`)).rejects.toThrow();
    // A second close() is the same promise, already settled.
    await server.close();
  });

  test("a WebSocket upgrade on another path than /agent is refused", async () => {
    const server = await startTestServer({ databaseUrl: getDatabase().url });
    try {
      const { port } = new URL(server.url);
      const socket = connect(Number(port), "127.0.0.1");
      const answer = await new Promise<string>((resolve, reject) => {
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk.toString("latin1");
        });
        socket.on("close", () => resolve(text));
        socket.on("error", reject);
        socket.write(
          "GET /not-agent HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    } finally {
      await server.close();
    }
  });

  test("/metrics serves the Prometheus exposition", async () => {
    const server = await startTestServer({ databaseUrl: getDatabase().url });
    try {
      const { token } = await createTestUserWithToken({ db: server.db, role: "viewer" });
      const response = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await response.text()).toMatch(/^fleet_hosts\{status="online"\} 0$/m);
    } finally {
      await server.close();
    }
  });

  test("with FLEET_TLS_CERT and FLEET_TLS_KEY it serves HTTPS with HSTS, and the session cookie is Secure", async () => {
    const { certPath, keyPath, remove } = await makeTestCertificate("fleet-tls-");
    const server = await startTestServer({
      databaseUrl: getDatabase().url,
      env: { FLEET_TLS_CERT: certPath, FLEET_TLS_KEY: keyPath, FLEET_PUBLIC_URL: "https://fleet.test:3443" },
    });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const user = await createTestUser({ db: server.db, role: "viewer" });
      const body = JSON.stringify({ json: { email: user.email, password: user.password } });
      const answer = await new Promise<{ status: number; cookies: string[]; hsts?: string }>(
        (resolve, reject) => {
          const req = request(
            `${server.url}/api/trpc/auth.signIn`,
            { method: "POST", ca: readFileSync(certPath), headers: { "content-type": "application/json" } },
            (res) => {
              res.resume();
              res.on("end", () =>
                resolve({
                  status: res.statusCode ?? 0,
                  cookies: res.headers["set-cookie"] ?? [],
                  hsts: res.headers["strict-transport-security"],
                }),
              );
            },
          );
          req.on("error", reject);
          req.end(body);
        },
      );
      expect(answer.status).toBe(200);
      expect(answer.cookies[0]).toMatch(/^fleet_session=.*; HttpOnly; Secure; SameSite=Strict$/);
      expect(answer.hsts).toBe("max-age=31536000");
    } finally {
      await server.close();
      await remove();
    }
  });
});
