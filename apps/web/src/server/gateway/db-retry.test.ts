import { describe, expect, it } from "vitest";
import { retryOnConnectionErrors } from "./db-retry";

const quiet = { warn: () => {}, info: () => {} };
const connectionLost = () => new Error("Connection terminated unexpectedly");

function fakeTime() {
  let now = 0;
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      waits.push(ms);
      now += ms;
    },
    waits,
  };
}

describe("retryOnConnectionErrors", () => {
  it("retries a frame through an outage with growing waits until it is handled", async () => {
    const time = fakeTime();
    let calls = 0;
    const handle = retryOnConnectionErrors(
      async () => {
        calls++;
        if (calls < 6) throw connectionLost();
      },
      { log: quiet, ...time },
    );
    await handle({}, { type: "container.status" });
    expect(calls).toBe(6);
    expect(time.waits).toEqual([250, 500, 1000, 2000, 2000]);
  });

  it("gives up once the limit would pass, with the last error", async () => {
    const time = fakeTime();
    let calls = 0;
    const handle = retryOnConnectionErrors(
      async () => {
        calls++;
        throw connectionLost();
      },
      { log: quiet, limitMs: 10_000, ...time },
    );
    await expect(handle({}, { type: "event" })).rejects.toThrow("Connection terminated");
    // 250 + 500 + 1000 + 4 × 2000 = 9750; one more 2000 would pass 10 s.
    expect(time.waits).toEqual([250, 500, 1000, 2000, 2000, 2000, 2000]);
    expect(calls).toBe(8);
  });

  it("does not retry what the database refused", async () => {
    const time = fakeTime();
    let calls = 0;
    const handle = retryOnConnectionErrors(
      async () => {
        calls++;
        throw Object.assign(new Error("Unique constraint failed"), { code: "P2002" });
      },
      { log: quiet, ...time },
    );
    await expect(handle({}, { type: "event" })).rejects.toThrow("Unique constraint");
    expect(calls).toBe(1);
  });

  it("retries at once when woken (the database is back)", async () => {
    let calls = 0;
    const handle = retryOnConnectionErrors(
      async () => {
        calls++;
        if (calls === 1) throw connectionLost();
      },
      { log: quiet, sleep: () => new Promise(() => {}) },
    );
    const handled = handle({}, { type: "event" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls).toBe(1);
    handle.wake();
    await handled;
    expect(calls).toBe(2);
  });

  it("stops retrying for a session a newer connection replaced", async () => {
    const time = fakeTime();
    const session = { replaced: false };
    let calls = 0;
    const handle = retryOnConnectionErrors(
      async () => {
        calls++;
        if (calls === 2) session.replaced = true;
        throw connectionLost();
      },
      { log: quiet, abandoned: (s: typeof session) => s.replaced, ...time },
    );
    await expect(handle(session, { type: "ack" })).rejects.toThrow();
    expect(calls).toBe(2);
  });
});
