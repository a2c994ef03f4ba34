/**
 * A small in-process central for link and agent tests: a real WebSocket
 * server on loopback that speaks the protocol's handshake (join token →
 * credential, credential → welcome, anything else → `unauthorized` and close
 * 4401, as the central's gateway does), records every frame the agent sends (checked with parseAgentFrame)
 * and lets a test drop connections, go away and come back on the same port.
 */
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { TAgentAuth, TAgentFrame } from "@fleet/shared/protocol/agent-to-server";
import { parseAgentFrame } from "@fleet/shared/protocol/frame";
import type { TServerFrameInput, TWelcomeFrame } from "@fleet/shared/protocol/server-to-agent";
import { PROTOCOL_VERSION } from "@fleet/shared/protocol/version";
import { type WebSocket, WebSocketServer } from "ws";

export interface FakeCentralOptions {
  joinTokens?: string[];
  hostId?: string;
  settings?: TWelcomeFrame["settings"];
  /** Serve wss:// with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Called with each TLS connection's socket once its handshake is done, before any request. */
  onTlsConnection?: (socket: import("node:tls").TLSSocket) => void;
}

/** Ports for test servers stay below the ephemeral range (32768+). */
function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 12_000);
}

export class FakeCentral {
  readonly frames: TAgentFrame[] = [];
  readonly badFrames: string[] = [];
  readonly hellos: TAgentAuth[] = [];
  readonly joinTokens: Set<string>;
  readonly credentials = new Map<string, string>();
  readonly hostId: string;
  settings: TWelcomeFrame["settings"];
  port = 0;
  /** Stop answering hellos (to test the welcome timeout). */
  silent = false;
  /** Refuse a hello by closing only, without the `unauthorized` error frame first. */
  refuseByCloseOnly = false;
  /** Answer upgrades 503, as a replica that is stopping or lost its database does. */
  refuseUpgrades = false;
  /** Upgrade requests seen (refused ones included). */
  upgradeAttempts = 0;
  /** Sent right behind each welcome, as a central sends its first snapshot. */
  afterWelcome: TServerFrameInput[] = [];

  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private sockets = new Set<WebSocket>();
  private credentialSerial = 0;

  constructor(private readonly opts: FakeCentralOptions = {}) {
    this.joinTokens = new Set(opts.joinTokens ?? ["join-token-1"]);
    this.hostId = opts.hostId ?? "host_1";
    this.settings = opts.settings ?? { metricsIntervalMs: 1000, heartbeatIntervalMs: 100 };
  }

  get url(): string {
    return `${this.opts.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Listens on `port` (a random one below 32768 when not given), retrying another on a clash. */
  async start(port?: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const candidate = port ?? randomPort();
      try {
        await this.listen(candidate);
        this.port = candidate;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || port !== undefined || attempt > 20)
          throw error;
      }
    }
  }

  private listen(port: number): Promise<void> {
    const notFound = (_req: unknown, res: import("node:http").ServerResponse) => {
      res.statusCode = 404;
      res.end();
    };
    const http: Server = this.opts.tls ? createTlsServer(this.opts.tls, notFound) : createServer(notFound);
    const onTls = this.opts.onTlsConnection;
    if (onTls) http.on("secureConnection", onTls);
    const wss = new WebSocketServer({ noServer: true });
    http.on("upgrade", (req, socket, head) => {
      if (req.url !== "/agent") {
        socket.destroy();
        return;
      }
      this.upgradeAttempts++;
      if (this.refuseUpgrades) {
        socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
    return new Promise((resolve, reject) => {
      http.once("error", reject);
      http.listen(port, "127.0.0.1", () => {
        http.off("error", reject);
        this.http = http;
        this.wss = wss;
        resolve();
      });
    });
  }

  /** Closes every connection abruptly and stops listening. */
  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss?.close();
    const http = this.http;
    this.http = null;
    this.wss = null;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  /** Drops every agent connection but keeps listening. */
  dropConnections(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }

  /** Closes every agent connection with a close frame (`code`, `reason`) and keeps listening. */
  closeConnections(code: number, reason = ""): void {
    for (const ws of this.sockets) ws.close(code, reason);
  }

  /** Defaulted fields may be left out, as a peer may leave them out on the wire. */
  send(frame: TServerFrameInput): void {
    this.sendRaw(JSON.stringify(frame));
  }

  sendRaw(text: string): void {
    for (const ws of this.sockets) ws.send(text);
  }

  framesOf<T extends TAgentFrame["type"]>(type: T): Extract<TAgentFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<TAgentFrame, { type: T }> => f.type === type);
  }

  /** Polls until `predicate` holds, failing after `timeoutMs`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        const bad =
          this.badFrames.length > 0 ? `; frames it rejected: ${this.badFrames.slice(-3).join(" | ")}` : "";
        const types = this.frames
          .map((f) => f.type)
          .slice(-20)
          .join(",");
        throw new Error(`timed out waiting for ${what} (last frames: ${types}${bad})`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private accept(ws: WebSocket): void {
    this.sockets.add(ws);
    let welcomed = false;
    ws.on("close", () => this.sockets.delete(ws));
    ws.on("message", (data) => {
      const parsed = parseAgentFrame(data as Buffer);
      if (!parsed.ok) {
        this.badFrames.push(parsed.error);
        return;
      }
      const frame = parsed.frame;
      this.frames.push(frame);
      if (frame.type !== "hello" || welcomed || this.silent) return;
      this.hellos.push(frame.auth);
      const welcome = this.authenticate(frame.auth);
      if (!welcome) {
        ws.send(
          JSON.stringify({
            type: "error",
            code: "unauthorized",
            message: "unknown join token or credential",
          }),
        );
        ws.close(4401, "unauthorized");
        return;
      }
      welcomed = true;
      ws.send(JSON.stringify(welcome));
      for (const next of this.afterWelcome) ws.send(JSON.stringify(next));
    });
  }

  private authenticate(auth: TAgentAuth): TWelcomeFrame | null {
    const base = {
      type: "welcome" as const,
      protocolVersion: PROTOCOL_VERSION,
      hostId: this.hostId,
      settings: this.settings,
      serverTime: Date.now(),
    };
    if (auth.kind === "join") {
      if (!this.joinTokens.delete(auth.joinToken)) return null;
      const credential = `cred-${++this.credentialSerial}`;
      this.credentials.set(this.hostId, credential);
      return { ...base, credential };
    }
    return this.credentials.get(auth.hostId) === auth.credential ? base : null;
  }
}
