import { describe, expect, test } from "vitest";
import { createUploadStore, describeUploadRefusal, UPLOAD_TTL_MS } from "./uploads";

function clockAt(start: number) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

const MIB = 1024 * 1024;

describe("upload store", () => {
  test("an upload is its uploader's, and can be taken once", () => {
    const store = createUploadStore({ clock: clockAt(0) });
    const { receipt } = store.put("user-a", Buffer.from("context"));
    expect(receipt).toMatchObject({ sizeBytes: 7, expiresAt: new Date(UPLOAD_TTL_MS) });
    const uploadId = receipt?.uploadId ?? "";
    expect(uploadId).toMatch(/^up_[0-9a-f]{12}_[A-Za-z0-9_-]{24}$/);
    expect(store.takeHeld(uploadId, "user-b")).toBeNull();
    expect(store.takeHeld(uploadId, "user-a")?.toString()).toBe("context");
    expect(store.takeHeld(uploadId, "user-a")).toBeNull();
    expect(store.heldBytes()).toBe(0);
  });

  test("an upload's id names the replica holding it; another replica's is taken from there", async () => {
    const asked: string[][] = [];
    const here = createUploadStore({
      clock: clockAt(0),
      replicaId: "central-a",
      takeRemote: async (...args) => {
        asked.push(args);
        return Buffer.from("from b");
      },
    });
    const there = createUploadStore({ clock: clockAt(0), replicaId: "central-b" });
    const mine = here.put("u", Buffer.from("mine")).receipt?.uploadId ?? "";
    const theirs = there.put("u", Buffer.from("theirs")).receipt?.uploadId ?? "";
    expect(mine.slice(0, 16)).not.toBe(theirs.slice(0, 16));
    expect((await here.take(mine, "u"))?.toString()).toBe("mine");
    expect(asked).toEqual([]);
    expect((await here.take(theirs, "u"))?.toString()).toBe("from b");
    expect(asked).toEqual([[theirs.slice(3, 15), theirs, "u"]]);
    // Ids without a replica key are looked up here only.
    expect(await here.take("up_unkeyed", "u")).toBeNull();
    expect(asked).toHaveLength(1);
  });

  test("abandoned uploads expire within minutes", () => {
    expect(UPLOAD_TTL_MS).toBeLessThanOrEqual(2 * 60_000);
  });

  test("bounds the bytes held and frees them when uploads expire", () => {
    const clock = clockAt(1000);
    const store = createUploadStore({ clock, maxHeldBytes: 10, ttlMs: 500 });
    const first = store.put("u", Buffer.alloc(6));
    expect(store.put("v", Buffer.alloc(6)).refusal).toMatchObject({
      limit: "store",
      used: 6,
      retryAfterMs: 500,
    });
    expect(store.heldBytes()).toBe(6);
    clock.ms = 1500;
    expect(store.takeHeld(first.receipt?.uploadId ?? "", "u")).toBeNull();
    expect(store.heldBytes()).toBe(0);
    expect(store.put("u", Buffer.alloc(10)).receipt).toBeDefined();
  });

  describe("the upload quota", () => {
    test("one user cannot pass their share; another user can still upload; expiry frees the share", () => {
      const clock = clockAt(0);
      const store = createUploadStore({
        clock,
        maxHeldBytes: 256 * MIB,
        maxShareBytes: 128 * MIB,
        ttlMs: 120_000,
      });
      expect(store.put("greedy", Buffer.alloc(64 * MIB)).receipt).toBeDefined();
      clock.ms = 10_000;
      expect(store.put("greedy", Buffer.alloc(64 * MIB)).receipt).toBeDefined();
      clock.ms = 20_000;
      const refused = store.put("greedy", Buffer.alloc(1));
      expect(refused.refusal).toEqual({
        limit: "share",
        limitValue: 128 * MIB,
        used: 128 * MIB,
        // The first of the two expires at 120 s.
        retryAfterMs: 100_000,
      });
      expect(store.heldBytes("greedy")).toBe(128 * MIB);

      // Half the store is still everyone else's: two full-size uploads.
      expect(store.put("other", Buffer.alloc(64 * MIB)).receipt).toBeDefined();
      expect(store.put("another", Buffer.alloc(64 * MIB)).receipt).toBeDefined();
      expect(store.heldBytes()).toBe(256 * MIB);

      // Expiry gives the share back; so does using an upload, at once.
      clock.ms = 120_000;
      expect(store.heldBytes("greedy")).toBe(64 * MIB);
      const again = store.put("greedy", Buffer.alloc(64 * MIB));
      expect(again.receipt).toBeDefined();
      expect(store.put("greedy", Buffer.alloc(1)).refusal).toMatchObject({ limit: "share" });
      expect(store.takeHeld(again.receipt?.uploadId ?? "", "greedy")).toHaveLength(64 * MIB);
      expect(store.heldBytes("greedy")).toBe(64 * MIB);
    });

    test("bytes still arriving count against the share, and are given back if the upload fails", () => {
      const store = createUploadStore({ clock: clockAt(0), maxHeldBytes: 100, maxShareBytes: 50 });
      const first = store.begin("u");
      const second = store.begin("u");
      expect(first.add(30)).toBeNull();
      expect(second.add(15)).toBeNull();
      expect(store.heldBytes("u")).toBe(45);
      // Neither finished, yet the share is nearly used: a third concurrent upload does not fit.
      const third = store.begin("u");
      expect(third.add(10)).toMatchObject({ limit: "share", used: 45, retryAfterMs: null });
      expect(store.heldBytes("u")).toBe(45);
      second.release();
      expect(store.heldBytes("u")).toBe(30);
      const receipt = first.finish(Buffer.alloc(30));
      first.release();
      expect(receipt.sizeBytes).toBe(30);
      expect(store.heldBytes("u")).toBe(30);
      expect(() => third.add(1)).toThrow("no longer being received");
    });

    test("a declared length that was too generous is corrected when the upload finishes", () => {
      const store = createUploadStore({ clock: clockAt(0), maxHeldBytes: 100, maxShareBytes: 50 });
      const reception = store.begin("u");
      expect(reception.add(50)).toBeNull();
      reception.finish(Buffer.alloc(20));
      expect(store.heldBytes("u")).toBe(20);
      expect(store.put("u", Buffer.alloc(30)).receipt).toBeDefined();
    });

    test("one user holds a bounded number of uploads, however small", () => {
      const store = createUploadStore({ clock: clockAt(0), maxUploadsPerUser: 3, ttlMs: 60_000 });
      for (let index = 0; index < 3; index++) expect(store.put("u", Buffer.alloc(1)).receipt).toBeDefined();
      expect(store.put("u", Buffer.alloc(1)).refusal).toEqual({
        limit: "count",
        limitValue: 3,
        used: 3,
        retryAfterMs: 60_000,
      });
      expect(store.put("v", Buffer.alloc(1)).receipt).toBeDefined();
    });

    test("a refusal names the share, says when it frees, and is a 429 (the store being full: 503)", () => {
      const share = describeUploadRefusal({
        limit: "share",
        limitValue: 128 * MIB,
        used: 100 * MIB,
        retryAfterMs: 41_500,
      });
      expect(share).toMatchObject({ status: 429, code: "TOO_MANY_REQUESTS", retryAfterSeconds: 42 });
      expect(share.message).toContain("your share of 128 MiB");
      expect(share.message).toContain("hold 100 MiB");
      expect(share.message).toContain("in 42 s");
      const store = describeUploadRefusal({
        limit: "store",
        limitValue: 256 * MIB,
        used: 250 * MIB,
        retryAfterMs: null,
      });
      expect(store).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
      expect(store.retryAfterSeconds).toBe(UPLOAD_TTL_MS / 1000);
      expect(store.message).toContain("the upload store is full");
    });
  });
});
