// The one way the CLI talks to the central: the typed tRPC client (queries
// and mutations over HTTP, subscriptions over SSE with the `eventsource`
// package, since Node has no EventSource), the build-context upload, and the
// translation of what went wrong into an exit code and a sentence.
//
// The router type comes from apps/web as a type only: nothing of the server
// is loaded at run time.
import type { AppRouter } from "@fleet/web/server/routers/_app";
import {
  createTRPCClient,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
} from "@trpc/client";
import { EventSource } from "eventsource";
import superjson from "superjson";
import { CliError, EXIT } from "./cli-error";

export type FleetClient = TRPCClient<AppRouter>;

export type TClientAuth = { bearer: string } | { cookie: string } | null;

export interface ClientOptions {
  url: string;
  auth: TClientAuth;
  /** Sees every HTTP response of queries and mutations (login reads the session cookie from it). */
  onResponse?: (response: Response) => void;
}

function authHeaders(auth: TClientAuth, url: string): Record<string, string> {
  if (!auth) return {};
  if ("bearer" in auth) return { authorization: `Bearer ${auth.bearer}` };
  // The central takes a session cookie only from its own origin, as a browser would send it.
  return { cookie: auth.cookie, origin: new URL(url).origin };
}

/**
 * A load balancer in front of the central (several replicas) answers 502, 503
 * or 504 with a page of its own while no replica can take the call, e.g.
 * during a rolling upgrade or a database outage: retryable, and said so
 * rather than as an answer the CLI cannot parse.
 */
class CentralUnavailableError extends Error {
  override name = "CentralUnavailableError";
  constructor(readonly status: number) {
    super(
      `the central is unavailable right now (HTTP ${status} from the proxy in front of it); try again shortly`,
    );
  }
}

/** Throws CentralUnavailableError for a proxy's own 502/503/504 page (the API's own errors are JSON). */
export function refuseProxyErrorPage(response: Response): Response {
  const json = response.headers.get("content-type")?.includes("json") ?? false;
  if (!json && [502, 503, 504].includes(response.status)) throw new CentralUnavailableError(response.status);
  return response;
}

export function createFleetClient(options: ClientOptions): FleetClient {
  const url = `${options.url}/api/trpc`;
  const headers = authHeaders(options.auth, options.url);
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({
          url,
          transformer: superjson,
          EventSource,
          eventSourceOptions: {
            fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
          },
        }),
        false: httpLink({
          url,
          transformer: superjson,
          headers,
          async fetch(input, init) {
            const response = await fetch(input, init);
            options.onResponse?.(response);
            return refuseProxyErrorPage(response);
          },
        }),
      }),
    ],
  });
}

const EXIT_BY_TRPC_CODE: Record<string, number> = {
  UNAUTHORIZED: EXIT.unauthorized,
  FORBIDDEN: EXIT.unauthorized,
  NOT_FOUND: EXIT.notFound,
};

/** The tRPC code (`NOT_FOUND`, …) a failed call came back with, if the central answered at all. */
export function trpcCodeOf(error: unknown): string | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const code = (error.data as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function networkProblem(error: unknown): string | null {
  let current: unknown = error;
  let deepest = "";
  // fetch wraps the socket's error (ECONNREFUSED, ENOTFOUND, …) as its cause.
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+/.test(code)) return `${code} ${current.message}`.trim();
    deepest = current.message;
    current = current.cause;
  }
  return error instanceof Error && /fetch failed|network|socket/i.test(error.message) ? deepest : null;
}

/** Any failure of a call → CliError with the central's own words, or what kept us from reaching it. */
export function toCliError(error: unknown, url: string): CliError {
  if (error instanceof CliError) return error;
  const unavailable = error instanceof TRPCClientError ? error.cause : error;
  if (unavailable instanceof CentralUnavailableError) {
    return new CliError(`${url}: ${unavailable.message}`, EXIT.failure);
  }
  if (error instanceof TRPCClientError) {
    const code = trpcCodeOf(error);
    if (code) return new CliError(error.message, EXIT_BY_TRPC_CODE[code] ?? EXIT.failure);
    const network = networkProblem(error.cause ?? error);
    if (network) return new CliError(`cannot reach the central at ${url}: ${network}`, EXIT.failure);
    return new CliError(
      `the central at ${url} answered in a way the CLI does not understand (is it a Fleet central?): ${error.message}`,
      EXIT.failure,
    );
  }
  const network = networkProblem(error);
  if (network) return new CliError(`cannot reach the central at ${url}: ${network}`, EXIT.failure);
  throw error;
}

export interface SubscriptionHandlers<T> {
  onStarted?: () => void;
  onData: (value: T) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
  onConnectionStateChange?: (state: { state: string; error: unknown }) => void;
}

export interface StreamOptions {
  signal?: AbortSignal;
  /**
   * How long a dropped stream may take to come back (tRPC reconnects and
   * resumes from the last tracked id) before the command gives up; 0: at once.
   * A stream that never connected fails on its first error either way.
   */
  reconnectGraceMs?: number;
}

/**
 * How long a dropped watch of a pull or build may take to come back: the job
 * runs on the central whether watched or not, and the watch resumes after
 * the last message seen.
 */
export const JOB_WATCH_RECONNECT_GRACE_MS = 30_000;

/**
 * A subscription as an async iterable: ends when the server ends the stream or
 * `signal` aborts; throws the server's error. Tracked values arrive as `{ id, data }`.
 */
export async function* subscriptionStream<T>(
  open: (handlers: SubscriptionHandlers<T>) => { unsubscribe(): void },
  options: StreamOptions = {},
): AsyncGenerator<T, void, undefined> {
  const queue: T[] = [];
  // Fields, not locals: the handlers set them, and TypeScript does not see callbacks narrow locals.
  const state: { failure: { error: unknown } | null; ended: boolean } = { failure: null, ended: false };
  let wake: (() => void) | null = null;
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  let connected = false;
  let graceTimer: NodeJS.Timeout | null = null;
  const clearGrace = () => {
    if (graceTimer) clearTimeout(graceTimer);
    graceTimer = null;
  };
  const fail = (error: unknown) => {
    state.failure ??= { error };
    notify();
  };
  const subscription = open({
    onData(value) {
      queue.push(value);
      notify();
    },
    onError: fail,
    onComplete() {
      state.ended = true;
      notify();
    },
    onConnectionStateChange(state) {
      if (state.state === "pending") {
        connected = true;
        clearGrace();
        return;
      }
      if (state.state !== "connecting" || !state.error) return;
      const grace = options.reconnectGraceMs ?? 0;
      if (!connected || grace <= 0) {
        fail(state.error);
      } else if (!graceTimer) {
        graceTimer = setTimeout(() => fail(state.error), grace);
      }
    },
  });
  const onAbort = () => {
    state.ended = true;
    notify();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift() as T;
        continue;
      }
      if (state.failure) throw state.failure.error;
      if (state.ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearGrace();
    options.signal?.removeEventListener("abort", onAbort);
    subscription.unsubscribe();
  }
}

/** The payload of a tracked subscription value. */
export function untracked<T>(value: { id: string; data: T } | T): T {
  return typeof value === "object" && value !== null && "id" in value && "data" in value
    ? (value as { data: T }).data
    : (value as T);
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface TUploadReceipt {
  uploadId: string;
  sizeBytes: number;
}

/** `POST /api/uploads` (build contexts are larger than a tRPC body may be). */
export async function uploadContext(options: {
  url: string;
  token: string;
  body: Buffer;
}): Promise<TUploadReceipt> {
  let response: Response;
  try {
    response = await fetch(`${options.url}/api/uploads`, {
      method: "POST",
      headers: { authorization: `Bearer ${options.token}`, "content-type": "application/x-tar" },
      body: options.body,
    });
  } catch (error) {
    throw toCliError(error, options.url);
  }
  const text = await response.text();
  const body = parseJsonObject(text) as {
    uploadId?: unknown;
    sizeBytes?: unknown;
    error?: { code?: unknown; message?: unknown };
  };
  if (response.ok && typeof body.uploadId === "string") {
    return { uploadId: body.uploadId, sizeBytes: Number(body.sizeBytes ?? options.body.byteLength) };
  }
  const message =
    typeof body.error?.message === "string"
      ? body.error.message
      : `HTTP ${response.status} ${response.statusText}`.trim();
  const exitCode =
    response.status === 401 || response.status === 403
      ? EXIT.unauthorized
      : response.status === 404
        ? EXIT.notFound
        : EXIT.failure;
  throw new CliError(`uploading the build context: ${message}`, exitCode);
}
