import { describe, expect, test } from "vitest";
import { createUploadStore } from "./uploads";

function clockAt(start: number) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

describe("upload store", () => {
  test("an upload is its uploader's, and can be taken once", () => {
    const store = createUploadStore({ clock: clockAt(0) });
    const receipt = store.put("user-a", Buffer.from("context"));
    expect(receipt).toMatchObject({ sizeBytes: 7, expiresAt: new Date(10 * 60_000) });
    const uploadId = receipt?.uploadId ?? "";
    expect(uploadId).toMatch(/^up_[A-Za-z0-9_-]{24}$/);
    expect(store.take(uploadId, "user-b")).toBeNull();
    expect(store.take(uploadId, "user-a")?.toString()).toBe("context");
    expect(store.take(uploadId, "user-a")).toBeNull();
    expect(store.heldBytes()).toBe(0);
  });

  test("bounds the bytes held and frees them when uploads expire", () => {
    const clock = clockAt(1000);
    const store = createUploadStore({ clock, maxHeldBytes: 10, ttlMs: 500 });
    const first = store.put("u", Buffer.alloc(6));
    expect(store.put("u", Buffer.alloc(6))).toBeNull();
    expect(store.heldBytes()).toBe(6);
    clock.ms = 1500;
    expect(store.take(first?.uploadId ?? "", "u")).toBeNull();
    expect(store.heldBytes()).toBe(0);
    expect(store.put("u", Buffer.alloc(10))).not.toBeNull();
  });
});
