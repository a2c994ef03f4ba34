import { describe, expect, test } from "vitest";
import { createProgressQueue } from "./progress-queue";

async function drain<T>(queue: ReturnType<typeof createProgressQueue<T>>) {
  const out: { value: T; dropped: number }[] = [];
  for (;;) {
    const next = await queue.next();
    if (next.done) return out;
    out.push({ value: next.value, dropped: next.dropped });
  }
}

describe("progress queue", () => {
  test("keeps order and hands items to a waiting reader", async () => {
    const queue = createProgressQueue<number>(10);
    const first = queue.next();
    queue.push(1);
    expect(await first).toEqual({ done: false, value: 1, dropped: 0 });
    queue.push(2);
    queue.push(3);
    queue.end();
    expect(await drain(queue)).toEqual([
      { value: 2, dropped: 0 },
      { value: 3, dropped: 0 },
    ]);
  });

  test("past capacity drops the oldest droppable items, never the kept ones, and counts the loss", async () => {
    const queue = createProgressQueue<string>(3);
    queue.push("final-a", { droppable: false });
    queue.push("p1");
    queue.push("p2");
    expect(queue.push("p3")).toBe(1);
    expect(queue.push("p4")).toBe(1);
    queue.push("final-b", { droppable: false });
    queue.end();
    expect(queue.size).toBe(3);
    expect(await drain(queue)).toEqual([
      { value: "final-a", dropped: 0 },
      { value: "p4", dropped: 3 },
      { value: "final-b", dropped: 0 },
    ]);
  });

  test("drains what is left before reporting the error it ended with", async () => {
    const queue = createProgressQueue<number>(5);
    queue.push(1);
    queue.end(new Error("agent said no"));
    queue.push(2);
    expect(await queue.next()).toEqual({ done: false, value: 1, dropped: 0 });
    await expect(queue.next()).rejects.toThrow("agent said no");
  });

  test("a waiting reader is released when its signal aborts", async () => {
    const queue = createProgressQueue<number>(5);
    const controller = new AbortController();
    const waiting = queue.next(controller.signal);
    controller.abort();
    expect(await waiting).toEqual({ done: true });
  });
});
