/**
 * `container.run` as one HTTP request on a kept-alive connection, the body
 * written once: the request a tRPC client sends (superjson's `{"json": …}`),
 * without the client's cost. The typed client (fetch, superjson, links) cost
 * this process about 1.6 ms of CPU per call, twice what Postgres spent, on the
 * same two cores as the central it measures; a load generator should cost the
 * machine little beside what it loads.
 *
 * May import: node built-ins.
 */
import http from "node:http";

/** What the central answered instead of a result: its tRPC error code and message. */
export class CallError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export type MutationCaller = () => Promise<void>;

/** Callers of one mutation with a fixed input, sharing up to `sockets` kept-alive connections. */
export function httpMutationCaller(options: {
  url: string;
  token: string;
  procedure: string;
  input: unknown;
  sockets: number;
}): MutationCaller {
  const target = new URL(`${options.url}/api/trpc/${options.procedure}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets });
  const body = Buffer.from(JSON.stringify({ json: options.input }));
  const headers = {
    authorization: `Bearer ${options.token}`,
    "content-type": "application/json",
    "content-length": body.length,
  };
  return () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            if (response.statusCode === 200) return resolve();
            reject(errorOf(response.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")));
          });
        },
      );
      request.on("error", reject);
      request.end(body);
    });
}

function errorOf(status: number, text: string): CallError {
  try {
    const answer = JSON.parse(text) as { error?: { json?: { message?: string; data?: { code?: string } } } };
    const error = answer.error?.json;
    if (error?.message) return new CallError(error.message, error.data?.code ?? `HTTP ${status}`);
  } catch {
    // Not tRPC's answer (a proxy, a crash): the status and the start of the body say what.
  }
  return new CallError(`HTTP ${status}: ${text.slice(0, 200)}`, `HTTP ${status}`);
}
