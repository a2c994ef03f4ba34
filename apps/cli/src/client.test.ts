import { TRPCClientError } from "@trpc/client";
import { describe, expect, test } from "vitest";
import { CliError } from "./cli-error";
import {
  refuseProxyErrorPage,
  type SubscriptionHandlers,
  subscriptionStream,
  toCliError,
  untracked,
} from "./client";

function serverError(code: string, message: string) {
  return TRPCClientError.from({ error: { code: -32000, message, data: { code } } });
}

describe("toCliError", () => {
  test.each([
    ["UNAUTHORIZED", 3],
    ["FORBIDDEN", 3],
    ["NOT_FOUND", 4],
    ["BAD_REQUEST", 1],
    ["CONFLICT", 1],
    ["PRECONDITION_FAILED", 1],
  ])("%s → exit %d with the server's message", (code, exitCode) => {
    const failure = toCliError(serverError(code, `the server says ${code}`), "http://c");
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ exitCode, message: `the server says ${code}` });
  });

  test("a refused connection names the central and the socket's error", () => {
    const socket = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const fetchFailure = new TypeError("fetch failed", { cause: socket });
    expect(toCliError(TRPCClientError.from(fetchFailure), "http://c:1")).toMatchObject({
      exitCode: 1,
      message: "cannot reach the central at http://c:1: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1",
    });
    expect(
      toCliError(new TypeError("fetch failed", { cause: new Error("bad port") }), "http://c:9").message,
    ).toBe("cannot reach the central at http://c:9: bad port");
  });

  test("a load balancer's own 503 page says the central is unavailable, to try again", () => {
    const page = new Response("<html><body><h1>503 Service Unavailable</h1></body></html>", {
      status: 503,
      headers: { "content-type": "text/html" },
    });
    let thrown: unknown;
    try {
      refuseProxyErrorPage(page);
    } catch (error) {
      thrown = error;
    }
    expect(toCliError(TRPCClientError.from(thrown as Error), "http://lb")).toMatchObject({
      exitCode: 1,
      message:
        "http://lb: the central is unavailable right now (HTTP 503 from the proxy in front of it); try again shortly",
    });
    // The API's own 503 is JSON and goes on to tRPC, which reads the central's words from it.
    const api = new Response("{}", { status: 503, headers: { "content-type": "application/json" } });
    expect(refuseProxyErrorPage(api)).toBe(api);
  });

  test("an answer that is not the API says so", () => {
    const failure = toCliError(TRPCClientError.from(new Error("Unexpected token < in JSON")), "http://c");
    expect(failure.message).toContain("answered in a way the CLI does not understand");
  });

  test("a bug is not dressed up as an expected failure", () => {
    expect(() => toCliError(new RangeError("oops"), "http://c")).toThrow(RangeError);
  });
});

/** A subscription driven by the test through the handlers the stream passes in. */
function fakeSubscription<T>() {
  let handlers: SubscriptionHandlers<T> | null = null;
  let unsubscribed = false;
  return {
    open(h: SubscriptionHandlers<T>) {
      handlers = h;
      return {
        unsubscribe() {
          unsubscribed = true;
        },
      };
    },
    get handlers() {
      if (!handlers) throw new Error("not subscribed yet");
      return handlers;
    },
    get unsubscribed() {
      return unsubscribed;
    },
  };
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe("subscriptionStream", () => {
  test("yields data in order and ends with the stream", async () => {
    const fake = fakeSubscription<number>();
    const stream = drain(subscriptionStream(fake.open));
    await Promise.resolve();
    fake.handlers.onConnectionStateChange?.({ state: "pending", error: null });
    fake.handlers.onData(1);
    fake.handlers.onData(2);
    fake.handlers.onComplete();
    expect(await stream).toEqual([1, 2]);
    expect(fake.unsubscribed).toBe(true);
  });

  test("a server error ends it with that error, after what came before", async () => {
    const fake = fakeSubscription<number>();
    const seen: number[] = [];
    const done = (async () => {
      for await (const value of subscriptionStream(fake.open)) seen.push(value);
    })();
    await Promise.resolve();
    fake.handlers.onData(1);
    fake.handlers.onError(serverError("NOT_FOUND", "gone"));
    await expect(done).rejects.toThrow("gone");
    expect(seen).toEqual([1]);
  });

  test("a stream that never connected fails on its first connection error", async () => {
    const fake = fakeSubscription<number>();
    const stream = drain(subscriptionStream(fake.open, { reconnectGraceMs: 60_000 }));
    await Promise.resolve();
    fake.handlers.onConnectionStateChange?.({ state: "connecting", error: null });
    fake.handlers.onConnectionStateChange?.({
      state: "connecting",
      error: serverError("UNAUTHORIZED", "no"),
    });
    await expect(stream).rejects.toThrow("no");
  });

  test("a dropped stream may come back within the grace", async () => {
    const fake = fakeSubscription<number>();
    const stream = drain(subscriptionStream(fake.open, { reconnectGraceMs: 50 }));
    await Promise.resolve();
    fake.handlers.onConnectionStateChange?.({ state: "pending", error: null });
    fake.handlers.onConnectionStateChange?.({ state: "connecting", error: new Error("dropped") });
    fake.handlers.onConnectionStateChange?.({ state: "pending", error: null });
    await new Promise((resolve) => setTimeout(resolve, 80));
    fake.handlers.onData(7);
    fake.handlers.onComplete();
    expect(await stream).toEqual([7]);

    const lost = fakeSubscription<number>();
    const failing = drain(subscriptionStream(lost.open, { reconnectGraceMs: 20 }));
    await Promise.resolve();
    lost.handlers.onConnectionStateChange?.({ state: "pending", error: null });
    lost.handlers.onConnectionStateChange?.({ state: "connecting", error: new Error("dropped for good") });
    await expect(failing).rejects.toThrow("dropped for good");
  });

  test("an abort ends it quietly and unsubscribes", async () => {
    const fake = fakeSubscription<number>();
    const controller = new AbortController();
    const stream = drain(subscriptionStream(fake.open, { signal: controller.signal }));
    await Promise.resolve();
    fake.handlers.onData(1);
    controller.abort();
    expect(await stream).toEqual([1]);
    expect(fake.unsubscribed).toBe(true);
  });

  test("untracked unwraps tracked values", () => {
    expect(untracked({ id: "3", data: { line: "x" } })).toEqual({ line: "x" });
    expect(untracked({ line: "x" })).toEqual({ line: "x" });
  });
});
