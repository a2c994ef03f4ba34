import type { Clock } from "@fleet/shared/clock";
import { useTestDatabase } from "@fleet/test/harness/postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPrismaClient, type PrismaClient } from "../../db/client";
import { createTestUser } from "../../testing/factories";
import {
  createSession,
  pruneExpiredSessions,
  resolveSession,
  SESSION_TOUCH_INTERVAL_MS,
  SESSION_TTL_MS,
} from "./sessions";

describe("sessions", () => {
  const getDatabase = useTestDatabase();
  let db: PrismaClient;

  beforeAll(() => {
    db = createPrismaClient(getDatabase().url);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  function manualClock(start: number): Clock & { advance(ms: number): void } {
    let now = start;
    return {
      now: () => now,
      setTimeout: () => ({}),
      clearTimeout: () => {},
      advance(ms) {
        now += ms;
      },
    };
  }

  test("a session slides forward when used, at most once per touch interval", async () => {
    const user = await createTestUser({ db, role: "viewer" });
    const clock = manualClock(Date.parse("2026-01-01T00:00:00Z"));
    const { token, expiresAt } = await createSession({ db, clock, userId: user.id });
    expect(expiresAt.getTime()).toBe(clock.now() + SESSION_TTL_MS);

    clock.advance(SESSION_TOUCH_INTERVAL_MS / 2);
    const early = await resolveSession({ db, clock, token });
    expect(early).toMatchObject({ ok: true, renewed: false, expiresAt });

    clock.advance(SESSION_TOUCH_INTERVAL_MS);
    const later = await resolveSession({ db, clock, token });
    expect(later).toMatchObject({ ok: true, renewed: true });
    expect(later.ok && later.expiresAt.getTime()).toBe(clock.now() + SESSION_TTL_MS);
  });

  test("an unused session expires and is deleted", async () => {
    const user = await createTestUser({ db, role: "viewer" });
    const clock = manualClock(Date.parse("2026-02-01T00:00:00Z"));
    const { token, sessionId } = await createSession({ db, clock, userId: user.id });

    clock.advance(SESSION_TTL_MS + 1);
    expect(await resolveSession({ db, clock, token })).toEqual({
      ok: false,
      problem: "your session has expired: sign in again",
    });
    expect(await db.session.findUnique({ where: { id: sessionId } })).toBeNull();

    const other = await createSession({ db, clock, userId: user.id });
    clock.advance(SESSION_TTL_MS + 1);
    expect(await pruneExpiredSessions({ db, clock })).toBeGreaterThanOrEqual(1);
    expect(await db.session.findUnique({ where: { id: other.sessionId } })).toBeNull();
  });

  test("an unknown token resolves to no session", async () => {
    const clock = manualClock(Date.now());
    expect(await resolveSession({ db, clock, token: "fleet_sess_unknown" })).toMatchObject({ ok: false });
  });
});
