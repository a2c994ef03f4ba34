/**
 * The HTTP and TCP health probe as the short child process runs it inside a
 * container's network namespace (see netns-probe.ts for why a child). One
 * self-contained function with no imports: from source it is sent to node as
 * `node -e <its source>`, so it may use nothing but its arguments and node's
 * globals; the built executable ignores `-e` and runs it through the hidden
 * subcommand `HEALTH_PROBE_COMMAND` of main.ts instead.
 *
 * Arguments: `tcp <port> <timeoutMs>` or `http <port> <path> <timeoutMs>`. It
 * writes one line saying what it saw and exits 0 when healthy, 1 when not.
 */
import type * as Http from "node:http";
import type * as Net from "node:net";

/** argv[2] of the executable that makes it a probe instead of an agent. */
export const HEALTH_PROBE_COMMAND = "__health-probe";

export interface ProbeModules {
  http: typeof Http;
  net: typeof Net;
}

export function runHealthProbe(args: readonly string[], modules: ProbeModules): void {
  let finished = false;
  const finish = (ok: boolean, message: string): void => {
    if (finished) return;
    finished = true;
    process.stdout.write(`${message.replace(/\s+/g, " ").slice(0, 2048)}\n`, () => process.exit(ok ? 0 : 1));
  };
  const [kind, portText] = args;
  const port = Number(portText);
  const timeoutMs = Number(args[args.length - 1]);
  const path = kind === "http" ? args[2] : undefined;
  if (
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535 ||
    !(timeoutMs > 0) ||
    !(kind === "tcp" ? args.length === 3 : kind === "http" && args.length === 4 && path?.startsWith("/"))
  ) {
    finish(false, `health probe: bad arguments ${JSON.stringify(args)}`);
    return;
  }
  setTimeout(() => finish(false, `timed out after ${timeoutMs} ms`), timeoutMs);
  const target = `127.0.0.1:${port}`;

  if (kind === "tcp") {
    const socket = modules.net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      finish(true, `connected to ${target}`);
    });
    socket.once("error", (error) => finish(false, `connect to ${target}: ${error.message}`));
    return;
  }

  const request = modules.http.get(
    {
      host: "127.0.0.1",
      port,
      path,
      agent: false,
      headers: { "user-agent": "fleet-agent-health-check", connection: "close" },
    },
    (response) => {
      const status = response.statusCode ?? 0;
      const ok = status >= 200 && status < 400;
      const summary = `GET http://${target}${path}: HTTP ${status} ${response.statusMessage ?? ""}`.trim();
      if (ok) {
        response.destroy();
        finish(true, summary);
        return;
      }
      // The start of the body usually says why; the rest is not read.
      const body: Buffer[] = [];
      let bodyBytes = 0;
      const done = () => finish(false, `${summary}: ${Buffer.concat(body).toString("utf8").trim()}`);
      response.on("data", (chunk: Buffer) => {
        body.push(chunk);
        bodyBytes += chunk.length;
        if (bodyBytes >= 512) {
          response.destroy();
          done();
        }
      });
      response.once("end", done);
      response.once("error", done);
    },
  );
  request.once("error", (error) => finish(false, `GET http://${target}${path}: ${error.message}`));
}
