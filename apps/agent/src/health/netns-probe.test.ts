// The probe child as it runs from source (`node -e` with the probe's own
// source), against servers of this process; without a namespace to enter,
// which the engines' integration tests do.
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeCommand, runProbeChild } from "./netns-probe";

let server: http.Server;
let port: number;
let silent: net.Server;
let silentPort: number;
const silentSockets = new Set<net.Socket>();
let freePort: number;

function listen(s: net.Server): Promise<number> {
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port)),
  );
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/ok") res.end("ok");
    else if (req.url === "/moved") res.writeHead(302, { location: "/ok" }).end();
    else res.writeHead(503).end(`down for maintenance${"!".repeat(10_000)}`);
  });
  port = await listen(server);
  // Accepts connections and never answers.
  silent = net.createServer((socket) => silentSockets.add(socket));
  silentPort = await listen(silent);
  const probe = net.createServer();
  freePort = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe("the probe child", () => {
  it("HTTP: 2xx and 3xx are healthy, anything else not, with the start of the body", async () => {
    await expect(
      runProbeChild(probeCommand({ type: "http", port, path: "/ok" }, 5000), 5000),
    ).resolves.toEqual({
      ok: true,
      message: `GET http://127.0.0.1:${port}/ok: HTTP 200 OK`,
    });
    await expect(
      runProbeChild(probeCommand({ type: "http", port, path: "/moved" }, 5000), 5000),
    ).resolves.toMatchObject({ ok: true });
    const down = await runProbeChild(probeCommand({ type: "http", port, path: "/down?x=1" }, 5000), 5000);
    expect(down.ok).toBe(false);
    expect(down.message).toMatch(
      new RegExp(
        `^GET http://127\\.0\\.0\\.1:${port}/down\\?x=1: HTTP 503 Service Unavailable: down for maintenance!+$`,
      ),
    );
    expect(down.message.length).toBeLessThan(2100);
  });

  it("HTTP and TCP: a closed port is unhealthy, saying so", async () => {
    const refused = await runProbeChild(
      probeCommand({ type: "http", port: freePort, path: "/" }, 5000),
      5000,
    );
    expect(refused).toEqual({ ok: false, message: expect.stringMatching(/ECONNREFUSED/) });
    const tcp = await runProbeChild(probeCommand({ type: "tcp", port: freePort }, 5000), 5000);
    expect(tcp).toEqual({
      ok: false,
      message: `connect to 127.0.0.1:${freePort}: connect ECONNREFUSED 127.0.0.1:${freePort}`,
    });
  });

  it("TCP: an accepted connection is healthy", async () => {
    await expect(runProbeChild(probeCommand({ type: "tcp", port }, 5000), 5000)).resolves.toEqual({
      ok: true,
      message: `connected to 127.0.0.1:${port}`,
    });
  });

  it("kills the child at the timeout", async () => {
    const startedAt = performance.now();
    const outcome = await runProbeChild(
      probeCommand({ type: "http", port: silentPort, path: "/" }, 60_000),
      400,
    );
    expect(outcome).toEqual({ ok: false, message: "timed out after 400 ms" });
    expect(performance.now() - startedAt).toBeLessThan(2000);
  });

  it("kills the child on abort and rejects with the reason", async () => {
    const abort = new AbortController();
    const probing = runProbeChild(
      probeCommand({ type: "http", port: silentPort, path: "/" }, 60_000),
      60_000,
      abort.signal,
    );
    setTimeout(() => abort.abort(new Error("container stopped")), 100);
    await expect(probing).rejects.toThrow("container stopped");
  });

  it("keeps no more than 4 KiB of what a child writes", async () => {
    const outcome = await runProbeChild(["sh", "-c", "yes flood | head -c 1000000; exit 3"], 5000);
    expect(outcome.ok).toBe(false);
    expect(outcome.message.length).toBeLessThanOrEqual(4096);
    expect(outcome.message.startsWith("flood\nflood")).toBe(true);
  });

  it("refuses arguments it does not understand", async () => {
    const outcome = await runProbeChild(
      [process.execPath, "-e", probeCommand({ type: "tcp", port: 1 }, 1000)[2]!, "udp", "1", "1000"],
      5000,
    );
    expect(outcome).toEqual({ ok: false, message: 'health probe: bad arguments ["udp","1","1000"]' });
  });
});
