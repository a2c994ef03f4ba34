import { expect, test } from "vitest";
import { createEventBus, getEventBus } from "./event-bus";

test("subscribers get what is published on their topic until they unsubscribe", () => {
  const bus = createEventBus();
  const seen: string[] = [];
  const unsubscribe = bus.subscribe("host.changed", ({ hostId }) => seen.push(hostId));
  bus.subscribe("host.removed", ({ hostId }) => seen.push(`removed ${hostId}`));
  bus.publish("host.changed", { hostId: "h1" });
  unsubscribe();
  bus.publish("host.changed", { hostId: "h2" });
  bus.publish("host.removed", { hostId: "h3" });
  expect(seen).toEqual(["h1", "removed h3"]);
  expect(bus.subscriberCount("host.changed")).toBe(0);
});

test("a throwing handler is reported and does not stop the others or the publisher", () => {
  const errors: string[] = [];
  const bus = createEventBus({ onHandlerError: (error, topic) => errors.push(`${topic}: ${String(error)}`) });
  const seen: string[] = [];
  bus.subscribe("host.changed", () => {
    throw new Error("boom");
  });
  bus.subscribe("host.changed", ({ hostId }) => seen.push(hostId));
  bus.publish("host.changed", { hostId: "h1" });
  expect(seen).toEqual(["h1"]);
  expect(errors).toEqual(["host.changed: Error: boom"]);
});

test("stream yields published payloads in order and unsubscribes when aborted", async () => {
  const bus = createEventBus();
  const controller = new AbortController();
  const stream = bus.stream("host.changed", controller.signal);
  const first = stream.next();
  // The generator subscribes on its first pull.
  await Promise.resolve();
  bus.publish("host.changed", { hostId: "a" });
  bus.publish("host.changed", { hostId: "b" });
  expect((await first).value).toEqual({ hostId: "a" });
  expect((await stream.next()).value).toEqual({ hostId: "b" });
  const pending = stream.next();
  controller.abort();
  expect(await pending).toEqual({ done: true, value: undefined });
  expect(bus.subscriberCount("host.changed")).toBe(0);
});

test("a slow stream keeps only the newest payloads", async () => {
  const bus = createEventBus();
  const controller = new AbortController();
  const stream = bus.stream("host.changed", controller.signal, { bufferSize: 2 });
  const first = stream.next();
  await Promise.resolve();
  for (const hostId of ["1", "2", "3", "4"]) bus.publish("host.changed", { hostId });
  expect((await first).value).toEqual({ hostId: "3" });
  expect((await stream.next()).value).toEqual({ hostId: "4" });
  controller.abort();
});

test("the process bus is one instance shared through globalThis", () => {
  expect(getEventBus()).toBe(getEventBus());
  expect((globalThis as Record<symbol, unknown>)[Symbol.for("fleet.event-bus")]).toBe(getEventBus());
});
