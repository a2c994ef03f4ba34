/**
 * The agent port (FLEET_AGENT_PORT): a TLS server of its own for hosts only,
 * apart from the dashboard's PORT, where an operator puts a TLS proxy.
 * It answers `/agent` (the gateway's WebSocket), `/install.sh` and
 * `/download/*`, and nothing else. Its certificate is FLEET_TLS_CERT's or the
 * central's self-signed one, whose key hosts pin (tls-identity.ts).
 *
 * May import: node built-ins, the files of this folder, the join-token service's TAgentEndpoint.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "../logger";
import type { TAgentEndpoint } from "../services/join-token/agent-endpoint";
import { AGENT_EXECUTABLE, checksumOf, DOWNLOAD_PATH_PREFIX, serveDownload } from "./downloads";
import { INSTALL_SCRIPT_PATH, renderInstallScript } from "./install-script";
import type { TAgentTlsIdentity } from "./tls-identity";

function pathnameOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`${text}\n`);
}

export function createAgentEndpointServer(options: {
  identity: TAgentTlsIdentity;
  endpoint: TAgentEndpoint;
  downloadsDir: string;
  installScriptTemplate: string;
  log: Logger;
  handleAgentUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}): https.Server {
  const { identity, endpoint, downloadsDir, log } = options;

  const serveInstallScript = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      plain(res, 405, "only GET and HEAD");
      return;
    }
    const checksum = await checksumOf(downloadsDir, AGENT_EXECUTABLE);
    if (!checksum.ok) {
      // A 200 with a script that fails saying why: `curl -f` would swallow an
      // error status's body, and the person at the host would see only "503".
      const message = `fleet-agent install: error: ${checksum.problem}`.replace(/'/g, "");
      const body = `#!/bin/sh\necho '${message}' >&2\nexit 1\n`;
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    const script = renderInstallScript(options.installScriptTemplate, {
      serverUrl: endpoint.publicUrl,
      pin: endpoint.pin,
      agentSha256: checksum.sha256,
    });
    res.writeHead(200, {
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(script),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : script);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("x-content-type-options", "nosniff");
    const path = pathnameOf(req);
    const answer =
      path === INSTALL_SCRIPT_PATH
        ? serveInstallScript(req, res)
        : path.startsWith(DOWNLOAD_PATH_PREFIX)
          ? serveDownload({ req, res, name: path.slice(DOWNLOAD_PATH_PREFIX.length), dir: downloadsDir, log })
          : Promise.resolve(
              plain(
                res,
                404,
                `not found: this port serves /agent, ${INSTALL_SCRIPT_PATH} and ${DOWNLOAD_PATH_PREFIX}*`,
              ),
            );
    answer.catch((error: unknown) => {
      log.error({ err: error, path }, "agent port request failed");
      if (!res.headersSent) plain(res, 500, "internal error");
      else res.destroy();
    });
  };

  const server = https.createServer({ key: identity.key, cert: identity.cert }, onRequest);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathnameOf(req) === "/agent") {
      options.handleAgentUpgrade(req, socket, head);
      return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
  server.on("clientError", (error, socket) => {
    log.debug({ err: error }, "bad request on the agent port");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });
  // A host whose pin does not match hangs up in the handshake: worth a line, not an error.
  server.on("tlsClientError", (error, socket) => {
    log.debug({ err: error, address: socket.remoteAddress }, "TLS handshake on the agent port failed");
  });
  return server;
}

export function listeningPort(server: https.Server): number {
  return (server.address() as AddressInfo).port;
}
