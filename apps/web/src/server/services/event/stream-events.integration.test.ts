// streamEvents against a real database and bus: a reader that falls behind
// its buffer still gets every event once, in order (the overflow switches it
// to a replay from the database), and one that stops early lets go of the bus.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { createEventBus } from "../../events/event-bus";
import { recordEvent } from "../../events/record-event";
import { streamEvents } from "./stream-events";

describe("streamEvents", () => {
  const getDatabase = useTestDatabase();
  let db: PrismaClient;

  beforeAll(() => {
    db = createPrismaClient(getDatabase().url);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  test("a reader slower than its buffer gets every event exactly once, in order", async () => {
    const bus = createEventBus();
    const controller = new AbortController();
    const stream = streamEvents({
      db,
      bus,
      filter: { kindPrefix: "slow." },
      signal: controller.signal,
      bufferSize: 3,
    });
    // The generator subscribes (synchronously) when first pulled.
    const pending = stream.next();
    const first = await recordEvent({ db, bus, kind: "slow.0", message: "0" });
    expect((await pending).value?.id).toBe(first.id.toString());

    // 25 events while the reader reads nothing: far past its buffer of 3.
    const burst = [];
    for (let index = 1; index <= 25; index++)
      burst.push(await recordEvent({ db, bus, kind: `slow.${index}`, message: "" }));
    expect(bus.subscriberCount("event")).toBe(0);

    const got: string[] = [];
    while (got.length < burst.length) {
      const next = await stream.next();
      if (next.done) break;
      got.push(next.value.id);
    }
    expect(got).toEqual(burst.map((event) => event.id.toString()));

    // Live again after catching up.
    const later = recordEvent({ db, bus, kind: "slow.later", message: "" });
    const next = await stream.next();
    expect(next.value?.id).toBe((await later).id.toString());
    controller.abort();
    expect((await stream.next()).done).toBe(true);
    expect(bus.subscriberCount("event")).toBe(0);
  });

  test("a reader with a lastEventId first gets the stored events after it, oldest first", async () => {
    const bus = createEventBus();
    const base = await recordEvent({ db, bus, kind: "window.base", message: "" });
    const after = [];
    for (let index = 0; index < 5; index++)
      after.push(await recordEvent({ db, bus, kind: "window.x", message: "" }));
    const controller = new AbortController();
    const stream = streamEvents({
      db,
      bus,
      filter: { kindPrefix: "window." },
      lastEventId: base.id.toString(),
      signal: controller.signal,
    });
    const got: string[] = [];
    for (let index = 0; index < after.length; index++) {
      const next = await stream.next();
      if (!next.done) got.push(next.value.id);
    }
    expect(got).toEqual(after.map((event) => event.id.toString()));
    await stream.return(undefined);
    expect(bus.subscriberCount("event")).toBe(0);
  });

  test("events both replayed and published live during the replay come once", async () => {
    const bus = createEventBus();
    const base = await recordEvent({ db, kind: "seam.base", message: "" });
    // Stored but not yet published: their publication lands while the replay runs.
    const stored = [];
    for (let index = 0; index < 3; index++)
      stored.push(await recordEvent({ db, kind: "seam.x", message: "" }));
    const controller = new AbortController();
    const stream = streamEvents({
      db,
      bus,
      filter: { kindPrefix: "seam." },
      lastEventId: base.id.toString(),
      signal: controller.signal,
    });
    // Subscribes synchronously, then starts the replay query.
    const first = stream.next();
    for (const event of stored) bus.publish("event", event);
    const later = await recordEvent({ db, bus, kind: "seam.later", message: "" });
    const got = [(await first).value?.id];
    for (let index = 0; index < stored.length; index++) got.push((await stream.next()).value?.id);
    expect(got).toEqual([...stored, later].map((event) => event.id.toString()));
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
