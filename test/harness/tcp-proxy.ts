// A TCP proxy on loopback that a test can cut and restore: cut() ends every
// proxied connection at once and closes new ones as they arrive, as a
// database server that went away does; restore() lets connections through
// again. Used to take Postgres away from one central without stopping the
// server other test files share. With a picker instead of a fixed target it
// is a small load balancer: each new connection goes where the picker says
// (e.g. the first central whose /readyz answers 200).
//
// May import: node built-ins.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlThrough(url: string): string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export interface TcpTarget {
  host: string;
  port: number;
}

export async function startTcpProxy(
  target: TcpTarget | (() => Promise<TcpTarget | null>),
): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let cut = false;
  const server: Server = createServer(async (client) => {
    if (cut) {
      client.destroy();
      return;
    }
    client.pause();
    client.on("error", () => client.destroy());
    const chosen = typeof target === "function" ? await target().catch(() => null) : target;
    if (chosen === null || cut || client.destroyed) {
      client.destroy();
      return;
    }
    const upstream = connect(chosen.port, chosen.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no TCP address");
  const port = address.port;
  return {
    port,
    urlThrough(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    cut() {
      cut = true;
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      cut = false;
    },
    async close() {
      cut = true;
      for (const [client, upstream] of [...pairs]) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
