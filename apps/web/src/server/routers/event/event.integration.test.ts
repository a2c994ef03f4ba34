// event.list and event.stream over real HTTP and SSE (httpSubscriptionLink),
// against a real central on a real database. Events are stored and published
// the way the gateway and services do it (recordEvent).

import type { TEventSeverity } from "@fleet/shared/domain/event";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createEventBus, type EventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { createTestHost, createTestUserWithToken } from "../../testing/factories";
import { startTestServer, type TestServer } from "../../testing/test-server";
import type { AppRouter } from "../_app";
import { createSseTestClient, recordSubscription } from "./testing/sse-test-client";

describe("event API", () => {
  const getDatabase = useTestDatabase();
  let server: TestServer;
  let bus: EventBus;
  let viewer: ReturnType<typeof createSseTestClient<AppRouter>>;
  let hostA: string;
  let hostB: string;

  beforeAll(async () => {
    bus = createEventBus();
    server = await startTestServer({ databaseUrl: getDatabase().url, bus });
    const { token } = await createTestUserWithToken({ db: server.db, role: "viewer" });
    viewer = createSseTestClient<AppRouter>(server.url, token);
    hostA = (await createTestHost(server.db)).id;
    hostB = (await createTestHost(server.db)).id;
  });
  afterAll(async () => {
    await server?.close();
  });

  const record = (
    kind: string,
    options: { hostId?: string; deploymentId?: string; severity?: TEventSeverity; ts?: Date } = {},
  ) => recordEvent({ db: server.db, bus, kind, message: `${kind} happened`, ...options });

  describe("event.list", () => {
    test("pages newest first with a cursor and filters by kind prefix, host, severity and time", async () => {
      const since = new Date(Date.now() - 1000);
      const created = [];
      for (let index = 0; index < 7; index++) {
        created.push(
          await record(index % 2 === 0 ? "list.container.oom" : "list.host.offline", {
            hostId: index < 4 ? hostA : hostB,
            severity: index === 3 ? "error" : index === 5 ? "warning" : "info",
          }),
        );
      }
      const ids = created.map((event) => event.id.toString()).reverse();

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Awaited<ReturnType<typeof viewer.event.list.query>> = await viewer.event.list.query({
          kindPrefix: "list.",
          limit: 3,
          cursor,
        });
        seen.push(...page.items.map((event) => event.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);

      const oom = await viewer.event.list.query({ kindPrefix: "list.container." });
      expect(oom.items.map((event) => event.kind)).toEqual(Array(4).fill("list.container.oom"));
      const onB = await viewer.event.list.query({ kindPrefix: "list.", hostId: hostB });
      expect(onB.items.map((event) => event.id)).toEqual(ids.slice(0, 3));
      const bad = await viewer.event.list.query({ kindPrefix: "list.", severity: ["warning", "error"] });
      expect(bad.items.map((event) => event.severity)).toEqual(["warning", "error"]);
      const errors = await viewer.event.list.query({ kindPrefix: "list.", severity: "error" });
      expect(errors.items).toHaveLength(1);
      expect(errors.items[0]).toMatchObject({
        kind: "list.host.offline",
        hostId: hostA,
        message: "list.host.offline happened",
      });
      expect(errors.items[0]?.ts).toBeInstanceOf(Date);
      const recent = await viewer.event.list.query({ kindPrefix: "list.", since });
      expect(recent.items).toHaveLength(7);
      const future = await viewer.event.list.query({
        kindPrefix: "list.",
        since: new Date(Date.now() + 60_000),
      });
      expect(future.items).toEqual([]);
    });

    test("filters by deployment", async () => {
      const [mine, other] = ["0190f0c2-0000-7000-8000-00000000000a", "0190f0c2-0000-7000-8000-00000000000b"];
      const scaled = await record("dep.deployment.scaled", { deploymentId: mine });
      await record("dep.deployment.scaled", { deploymentId: other });
      await record("dep.host.offline", { hostId: hostA });
      const page = await viewer.event.list.query({ kindPrefix: "dep.", deploymentId: mine });
      expect(page.items.map((event) => event.id)).toEqual([scaled.id.toString()]);
      expect(page.items[0]?.deploymentId).toBe(mine);
    });

    test("refuses a cursor it did not hand out", async () => {
      await expect(viewer.event.list.query({ cursor: "not-a-cursor" })).rejects.toThrow(
        "cursor: not a cursor this API handed out",
      );
    });
  });

  describe("event.stream", () => {
    test("streams new events live, as tracked ids, filtered", async () => {
      const live = recordSubscription<{ id: string; kind: string }>((handlers) =>
        viewer.event.stream.subscribe({ kindPrefix: "live." }, handlers),
      );
      // The subscription is in place once an event published now arrives; keep publishing until one does.
      const first = await waitUntilDelivered(live, () => record("live.first"));
      await record("other.ignored");
      const second = await record("live.second", { hostId: hostA });
      await live.waitFor((items) => items.some((item) => item.id === second.id.toString()));
      live.unsubscribe();
      const kinds = live.items.map((item) => item.data.kind);
      expect(kinds).not.toContain("other.ignored");
      expect(kinds.at(-1)).toBe("live.second");
      expect(live.items.at(-1)?.id).toBe(second.id.toString());
      expect(Number(second.id)).toBeGreaterThan(Number(first));
    });

    test("a reconnect with lastEventId replays what was missed, then goes live: no gap, no repeat", async () => {
      const before = await record("resume.a");
      // Missed while disconnected.
      const missed = [await record("resume.b"), await record("resume.c"), await record("resume.d")];
      const resumed = recordSubscription<{ id: string; kind: string }>((handlers) =>
        viewer.event.stream.subscribe({ kindPrefix: "resume.", lastEventId: before.id.toString() }, handlers),
      );
      // Published while the replay may still be running: the seam between replay and live.
      const during = await Promise.all(
        Array.from({ length: 20 }, (_, index) => record(`resume.during-${index}`)),
      );
      await resumed.waitFor((items) => items.length >= missed.length + during.length);
      const after = await record("resume.after");
      await resumed.waitFor((items) => items.some((item) => item.id === after.id.toString()));
      resumed.unsubscribe();

      const expected = [...missed, ...during, after].map((event) => event.id.toString()).sort(byNumber);
      const got = resumed.items.map((item) => item.id ?? "");
      expect([...got].sort(byNumber)).toEqual(expected);
      expect(new Set(got).size).toBe(got.length);
      // The replay comes in id order, before anything live.
      expect(got.slice(0, 3)).toEqual(missed.map((event) => event.id.toString()));
      expect(resumed.items.map((item) => item.data.id)).toEqual(got);
    });

    test("refuses a lastEventId that is not an event id", async () => {
      const bad = recordSubscription((handlers) =>
        viewer.event.stream.subscribe({ lastEventId: "x1" }, handlers),
      );
      await expect(bad.waitForEnd()).rejects.toThrow("lastEventId: not an event id");
      bad.unsubscribe();
    });
  });

  async function waitUntilDelivered(
    subscription: { items: { id: string | undefined }[] },
    publish: () => Promise<{ id: bigint }>,
  ): Promise<bigint> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const event = await publish();
      const deadline = Date.now() + 100;
      while (Date.now() < deadline) {
        if (subscription.items.some((item) => item.id === event.id.toString())) return event.id;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    throw new Error("the subscription never delivered an event");
  }
});

const byNumber = (a: string, b: string) => Number(a) - Number(b);
