/**
 * TLS to a central known by the pin of its public key (`sha256//…`, see
 * @fleet/shared/server-pin) rather than by a certificate authority: the
 * certificate may be self-signed, and its name is not checked, because the
 * key is the identity. The socket is handed to the HTTP client only once the
 * key matched, so to any other server nothing is sent at all: no upgrade
 * request, no hello, no join token.
 *
 * May import: node built-ins, @fleet/shared/server-pin.
 */
import { isIP, type Socket } from "node:net";
import { type ConnectionOptions, connect, type TLSSocket } from "node:tls";
import { serverPinOfCertificate } from "@fleet/shared/server-pin";

/** The central's key is not the pinned one. Retried like a lost link: the right central may come back. */
export class ServerPinMismatchError extends Error {
  override name = "ServerPinMismatchError";
  constructor(
    readonly address: string,
    readonly expected: string,
    readonly presented: string | null,
  ) {
    super(
      presented === null
        ? `${address} presented no certificate; expected the key pinned as ${expected}. Refused: nothing was sent to it`
        : `${address} presented the key ${presented}, not the pinned ${expected}. Refused: nothing was sent to it (not the join token, not the host credential). If the central's key changed on purpose, install this host again with the new join command`,
    );
  }
}

type ConnectCallback = (error: Error | null, socket?: Socket) => void;

/**
 * A `createConnection` for http(s).request (and so for ws): it answers
 * through the callback, after the handshake and the pin check.
 */
export function pinnedTlsConnect(
  pin: string,
  handshakeTimeoutMs: number,
): (options: ConnectionOptions, callback: ConnectCallback) => undefined {
  return (options, callback) => {
    const host = options.host ?? "localhost";
    const address = `${host.includes(":") ? `[${host}]` : host}:${options.port}`;
    let settled = false;
    const settle = (error: Error | null, socket?: TLSSocket) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callback(error, socket);
    };
    const socket = connect({
      host,
      port: options.port,
      servername: isIP(host) ? undefined : (options.servername ?? host),
      // The pin below replaces the chain and name checks.
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      socket.destroy();
      settle(new Error(`TLS handshake with ${address} took longer than ${handshakeTimeoutMs} ms`));
    }, handshakeTimeoutMs);
    socket.once("secureConnect", () => {
      const certificate = socket.getPeerX509Certificate();
      const presented = certificate ? serverPinOfCertificate(certificate) : null;
      if (presented !== pin) {
        socket.destroy();
        settle(new ServerPinMismatchError(address, pin, presented));
        return;
      }
      settle(null, socket);
    });
    socket.once("error", (error) => settle(error));
    return undefined;
  };
}
