import { ManualClock } from "@fleet/shared/testing/manual-clock";
import { describe, expect, it } from "vitest";
import type { PrismaClient } from "../../db/client";
import { createEventBus } from "../../events/event-bus";
import { API_TOKEN_CACHE_TTL_MS, createApiTokenCache } from "./api-token-cache";

/** A database holding one token row; counts the lookups and can hold one until released. */
function fakeDb(clock: ManualClock) {
  const row = {
    id: "t1",
    revokedAt: null as Date | null,
    expiresAt: null as Date | null,
    lastUsedAt: new Date(clock.now()),
    user: { id: "u1", email: "a@example.com", name: "A", role: "viewer", disabledAt: null },
  };
  let lookups = 0;
  let held: Promise<void> | null = null;
  const db = {
    apiToken: {
      async findUnique() {
        lookups++;
        if (held) await held;
        return { ...row };
      },
      async updateMany() {
        return { count: 1 };
      },
    },
  } as unknown as PrismaClient;
  return {
    db,
    row,
    lookups: () => lookups,
    hold(): () => void {
      let release = () => {};
      held = new Promise((resolve) => {
        release = () => {
          held = null;
          resolve();
        };
      });
      return release;
    },
  };
}

describe("API token cache", () => {
  it("asks the database once per TTL, and again at once after an access change", async () => {
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const bus = createEventBus();
    const fake = fakeDb(clock);
    const cache = createApiTokenCache({ bus });
    const resolve = () => cache.resolve({ db: fake.db, clock, token: "fleet_api_x" });

    expect((await resolve()).ok).toBe(true);
    expect((await resolve()).ok).toBe(true);
    expect(fake.lookups()).toBe(1);

    await clock.advance(API_TOKEN_CACHE_TTL_MS);
    await resolve();
    expect(fake.lookups()).toBe(2);

    fake.row.revokedAt = new Date(clock.now());
    bus.publish("access.changed", { userId: "u1", apiTokenId: "t1" });
    expect(await resolve()).toEqual({ ok: false, problem: "this API token has been revoked" });
    // Refusals are not kept either.
    await resolve();
    expect(fake.lookups()).toBe(4);
  });

  it("refuses a kept token once it expires, and keeps nothing read across an access change", async () => {
    const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
    const bus = createEventBus();
    const fake = fakeDb(clock);
    const cache = createApiTokenCache({ bus });
    const resolve = () => cache.resolve({ db: fake.db, clock, token: "fleet_api_x" });

    fake.row.expiresAt = new Date(clock.now() + 1000);
    expect((await resolve()).ok).toBe(true);
    await clock.advance(1000);
    expect(await resolve()).toEqual({ ok: false, problem: "this API token has expired" });

    fake.row.expiresAt = null;
    const release = fake.hold();
    const during = resolve();
    bus.publish("access.changed", { userId: "u1" });
    release();
    expect((await during).ok).toBe(true);
    const before = fake.lookups();
    await resolve();
    expect(fake.lookups()).toBe(before + 1);
  });
});
