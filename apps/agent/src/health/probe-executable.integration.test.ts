// The built executable (Node's single executable application, which ignores
// `node -e`) as the health probe: its hidden subcommand, entered into a
// network namespace by nsenter as the agent does (here this process's own).
import http from "node:http";
import type net from "node:net";
import { ensureAgentBinary } from "@fleet/test/harness/built-binaries";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runProbeChild } from "./netns-probe";
import { HEALTH_PROBE_COMMAND } from "./probe-program";

let executable: string;
let server: http.Server;
let port: number;

beforeAll(async () => {
  executable = await ensureAgentBinary();
  server = http.createServer((req, res) => res.writeHead(req.url === "/ok" ? 204 : 500).end("broken"));
  port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
  );
}, 300_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

function probe(...args: string[]) {
  return runProbeChild(
    ["nsenter", `--net=/proc/${process.pid}/ns/net`, "--", executable, HEALTH_PROBE_COMMAND, ...args],
    10_000,
  );
}

it("answers HTTP and TCP checks through its hidden subcommand", async () => {
  const startedAt = performance.now();
  await expect(probe("http", String(port), "/ok", "5000")).resolves.toEqual({
    ok: true,
    message: `GET http://127.0.0.1:${port}/ok: HTTP 204 No Content`,
  });
  const oneProbeMs = performance.now() - startedAt;
  await expect(probe("http", String(port), "/", "5000")).resolves.toEqual({
    ok: false,
    message: `GET http://127.0.0.1:${port}/: HTTP 500 Internal Server Error: broken`,
  });
  await expect(probe("tcp", String(port), "5000")).resolves.toEqual({
    ok: true,
    message: `connected to 127.0.0.1:${port}`,
  });
  process.stdout.write(`the executable answered one probe in ${Math.round(oneProbeMs)} ms\n`);
});
