// The notifier against a real Postgres: delivery between two notifiers (two
// replicas), order, size and name checks, the disabled mode, and a listener
// whose connection is killed coming back by itself.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPgNotifier,
  LISTENER_APPLICATION_NAME,
  MAX_NOTIFY_PAYLOAD_BYTES,
  NotifyPayloadTooLargeError,
  type PgNotifier,
} from "./pg-notify";

const log = pino({ level: "silent" });

function collector() {
  const received: string[] = [];
  let waiters: { count: number; resolve(): void }[] = [];
  return {
    received,
    handler(payload: string) {
      received.push(payload);
      waiters = waiters.filter((waiter) => {
        if (received.length < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    },
    until(count: number, timeoutMs = 5000): Promise<void> {
      if (received.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`got ${received.length} of ${count} notifications`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

describe("pg-notify", () => {
  const database = useTestDatabase({ migrate: false });
  const open: PgNotifier[] = [];

  function notifier(options: Partial<Parameters<typeof createPgNotifier>[0]> = {}): PgNotifier {
    const made = createPgNotifier({ databaseUrl: database().url, log, ...options });
    open.push(made);
    return made;
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()));
  });

  it("delivers notifications to another notifier, in order, many coalesced per statement", async () => {
    const sender = notifier();
    const receiver = notifier();
    const got = collector();
    receiver.listen("fleet_test", got.handler);
    await receiver.start();
    await sender.start();

    const sent = Array.from({ length: 250 }, (_, index) => `message ${index}`);
    await Promise.all(sent.map((payload) => sender.notify("fleet_test", payload)));
    await got.until(sent.length);
    expect(got.received).toEqual(sent);
  });

  it("hears its own notifications too and keeps channels apart", async () => {
    const both = notifier();
    const a = collector();
    const b = collector();
    both.listen("fleet_a", a.handler);
    both.listen("fleet_b", b.handler);
    await both.start();
    await both.notify("fleet_a", "to a");
    await both.notify("fleet_b", "to b");
    await a.until(1);
    await b.until(1);
    expect(a.received).toEqual(["to a"]);
    expect(b.received).toEqual(["to b"]);
  });

  it("listens on a channel added after start", async () => {
    const receiver = notifier();
    await receiver.start();
    const late = collector();
    receiver.listen("fleet_late", late.handler);
    // LISTEN is sent at once; a notification after a round trip is heard.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await notifier().notify("fleet_late", "heard");
    await late.until(1);
  });

  it("refuses payloads over the limit and channel names it would have to quote", async () => {
    const sender = notifier();
    const receiver = notifier();
    const got = collector();
    receiver.listen("fleet_size", got.handler);
    await receiver.start();

    // Multi-byte text counts in bytes, as Postgres counts it.
    const atLimit = "é".repeat(MAX_NOTIFY_PAYLOAD_BYTES / 2);
    await sender.notify("fleet_size", atLimit);
    expect(() => sender.notify("fleet_size", `${atLimit}x`)).toThrow(NotifyPayloadTooLargeError);
    expect(() => sender.notify("fleet_size", "x".repeat(100_000))).toThrow(/exceeds the limit of 7900 bytes/);
    for (const bad of ['fleet"; DROP TABLE x; --', "Fleet", "", "a".repeat(64), "fleet-bus"]) {
      expect(() => sender.notify(bad, "x")).toThrow(/not a notification channel name/);
      expect(() => receiver.listen(bad, () => {})).toThrow(/not a notification channel name/);
    }
    await got.until(1);
    expect(got.received).toEqual([atLimit]);
  });

  it("a handler that throws does not stop the others or the listener", async () => {
    const receiver = notifier();
    const got = collector();
    receiver.listen("fleet_throw", () => {
      throw new Error("handler bug");
    });
    receiver.listen("fleet_throw", got.handler);
    await receiver.start();
    const sender = notifier();
    await sender.notify("fleet_throw", "one");
    await sender.notify("fleet_throw", "two");
    await got.until(2);
  });

  it("disabled: sends nothing and hears nothing", async () => {
    const off = notifier({ disabled: true });
    expect(off.enabled).toBe(false);
    const heard = collector();
    off.listen("fleet_off", heard.handler);
    await off.start();
    const on = notifier();
    const onHeard = collector();
    on.listen("fleet_off", onHeard.handler);
    await on.start();

    await off.notify("fleet_off", "from the disabled one");
    await on.notify("fleet_off", "from the enabled one");
    await onHeard.until(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(onHeard.received).toEqual(["from the enabled one"]);
    expect(heard.received).toEqual([]);
    // Still checked: a caller's bug shows with notifications off too.
    expect(() => off.notify("fleet_off", "x".repeat(MAX_NOTIFY_PAYLOAD_BYTES + 1))).toThrow(
      NotifyPayloadTooLargeError,
    );
    expect(createPgNotifier({ databaseUrl: null, log }).enabled).toBe(false);
  });

  it("a listener whose connection is killed reconnects, listens again and runs its reconnect hooks", async () => {
    const receiver = notifier({ reconnectMinMs: 20, reconnectMaxMs: 200 });
    const got = collector();
    receiver.listen("fleet_again", got.handler);
    let reconnects = 0;
    receiver.onReconnected(() => {
      reconnects++;
    });
    await receiver.start();
    const sender = notifier();
    await sender.notify("fleet_again", "before");
    await got.until(1);

    const admin = new pg.Client({ connectionString: database().url });
    await admin.connect();
    try {
      const killed = await admin.query(
        "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
        [LISTENER_APPLICATION_NAME],
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      // The pool's connection goes too: the sender must reconnect on its own as well.
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'fleet-notify'",
      );
    } finally {
      await admin.end();
    }

    const deadline = Date.now() + 5000;
    while (reconnects === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reconnects).toBe(1);
    // The sender's pooled connection died under it: its first attempt fails and is retried.
    await sender.notify("fleet_again", "after");
    await got.until(2);
    expect(got.received).toEqual(["before", "after"]);
  });

  it("an unreachable database is retried without throwing, and close() ends the retries", async () => {
    const nowhere = createPgNotifier({
      databaseUrl: "postgres://nobody:x@127.0.0.1:1/none",
      log,
      reconnectMinMs: 10,
      reconnectMaxMs: 20,
    });
    nowhere.listen("fleet_nowhere", () => {});
    await nowhere.start();
    await nowhere.notify("fleet_nowhere", "lost");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await nowhere.close();
    await nowhere.close();
  });
});
