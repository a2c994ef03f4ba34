// The duty lease on a real Postgres: several runners (as several replicas
// would) on one database, with short timings.
import { useTestDatabase } from "@fleet/test/harness/postgres";
import pg from "pg";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPrismaClient, type PrismaClient } from "./client";
import {
  assertLeaseHeld,
  claimLease,
  createDutyLease,
  type DutyLease,
  type DutyLeaseTuning,
  expireLease,
  type LeaseFence,
  LeaseLostError,
} from "./duty-lease";

const FAST: DutyLeaseTuning = { ttlMs: 1200, renewIntervalMs: 200, retryIntervalMs: 200, marginMs: 300 };

describe("the duty lease", () => {
  const database = useTestDatabase();
  let db: PrismaClient;
  const runners: DutyLease[] = [];
  let leaseNumber = 0;

  beforeAll(() => {
    db = createPrismaClient(database().url);
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.abandon()));
  });

  afterAll(async () => {
    await db.$disconnect();
  });

  /** A runner that records its transitions; each test uses its own lease name. */
  function runner(leaseName: string, holder: string, tuning: Partial<DutyLeaseTuning> = FAST) {
    const transitions: string[] = [];
    const lease = createDutyLease({
      db,
      name: leaseName,
      holder,
      log: pino({ level: "silent" }),
      tuning,
      onAcquired(fence) {
        transitions.push(`acquired ${fence.token}`);
      },
      onLost(reason) {
        transitions.push(`lost: ${reason}`);
      },
    });
    runners.push(lease);
    return { lease, transitions };
  }

  const freshName = () => `test-lease-${++leaseNumber}`;

  async function row(leaseName: string) {
    return db.dutyLease.findUniqueOrThrow({ where: { name: leaseName } });
  }

  async function waitUntil(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (!check()) {
      if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Date.now() - started;
  }

  function fencedWrite(fence: LeaseFence) {
    return db.$transaction(async (tx) => {
      await assertLeaseHeld(tx, fence);
      return "written";
    });
  }

  it("claims in one statement: a new holder gets token + 1, a renewal keeps it, another holder is refused", async () => {
    const name = freshName();
    const first = await claimLease(db, { name, holder: "a", ttlMs: 60_000, heldToken: null });
    expect(first?.token).toBe(1n);
    const renewed = await claimLease(db, { name, holder: "a", ttlMs: 60_000, heldToken: 1n });
    expect(renewed?.token).toBe(1n);
    expect(renewed?.acquiredAt.getTime()).toBe(first?.acquiredAt.getTime());
    expect(renewed!.expiresAt.getTime()).toBeGreaterThanOrEqual(first!.expiresAt.getTime());
    expect(await claimLease(db, { name, holder: "b", ttlMs: 60_000, heldToken: null })).toBeNull();
    // The same holder without the token (a restarted process with the same id) starts a new tenure.
    expect((await claimLease(db, { name, holder: "a", ttlMs: 60_000, heldToken: null }))?.token).toBe(2n);
    // A token that is not the row's (a forged or stale one) is not a renewal either.
    expect((await claimLease(db, { name, holder: "a", ttlMs: 60_000, heldToken: 77n }))?.token).toBe(3n);
    expect(await expireLease(db, { name, holder: "b" })).toBe(false);
    expect(await expireLease(db, { name, holder: "a" })).toBe(true);
    const taken = await claimLease(db, { name, holder: "b", ttlMs: 60_000, heldToken: null });
    expect(taken?.token).toBe(4n);
    expect((await row(name)).holder).toBe("b");
  });

  it("lets exactly one of several runners started at once hold it", async () => {
    const name = freshName();
    const all = ["a", "b", "c", "d", "e"].map((holder) => runner(name, holder));
    await Promise.all(all.map(({ lease }) => lease.start()));
    expect(all.filter(({ lease }) => lease.isHeld())).toHaveLength(1);
    // And it stays that way while the holder renews.
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.ttlMs));
    const holders = all.filter(({ lease }) => lease.isHeld());
    expect(holders).toHaveLength(1);
    expect(holders[0]?.transitions).toEqual(["acquired 1"]);
    expect((await row(name)).token).toBe(1n);
  });

  it("moves to another runner within TTL + one try when the holder stops renewing; tokens rise; the stale fence fails", async () => {
    const name = freshName();
    const a = runner(name, "a");
    const b = runner(name, "b");
    await a.lease.start();
    await b.lease.start();
    expect(a.lease.isHeld()).toBe(true);
    expect(b.lease.isHeld()).toBe(false);
    const staleFence = a.lease.fence()!;
    expect(staleFence.token).toBe(1n);
    expect(await fencedWrite(staleFence)).toBe("written");

    // A crash: no more renewals, the row left as it is.
    await a.lease.abandon();
    const tookMs = await waitUntil(
      "b holds the lease",
      () => b.lease.isHeld(),
      FAST.ttlMs + 2 * FAST.retryIntervalMs + 500,
    );
    expect(tookMs).toBeLessThanOrEqual(FAST.ttlMs + FAST.retryIntervalMs + 400);
    expect(b.lease.token()).toBe(2n);
    expect(b.transitions).toEqual(["acquired 2"]);
    expect(a.transitions).toEqual(["acquired 1", "lost: abandoned"]);

    await expect(fencedWrite(staleFence)).rejects.toThrow(LeaseLostError);
    await expect(fencedWrite(staleFence)).rejects.toThrow(
      /no longer held by a with token 1: it is held by b with token 2/,
    );
    expect(await fencedWrite(b.lease.fence()!)).toBe("written");
    // Forged fences fail too: the right holder with another token, another holder with the right token.
    await expect(fencedWrite({ name, holder: "b", token: 3n })).rejects.toThrow(LeaseLostError);
    await expect(fencedWrite({ name, holder: "a", token: 2n })).rejects.toThrow(LeaseLostError);
    await expect(fencedWrite({ name: freshName(), holder: "b", token: 2n })).rejects.toThrow(/no such lease/);
  });

  it("hands over at once on release, long before the TTL", async () => {
    const name = freshName();
    const slow: Partial<DutyLeaseTuning> = {
      ttlMs: 10_000,
      renewIntervalMs: 200,
      retryIntervalMs: 200,
      marginMs: 1000,
    };
    const a = runner(name, "a", slow);
    const b = runner(name, "b", slow);
    await a.lease.start();
    await b.lease.start();
    expect(a.lease.isHeld()).toBe(true);
    const releasedAt = Date.now();
    await a.lease.release();
    expect(a.lease.isHeld()).toBe(false);
    expect(a.transitions).toEqual(["acquired 1", "lost: released"]);
    await waitUntil("b holds the lease", () => b.lease.isHeld(), 2000);
    expect(Date.now() - releasedAt).toBeLessThan(1500);
    expect(b.lease.token()).toBe(2n);
    // Releasing is idempotent and a released runner does not come back.
    await a.lease.release();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(a.lease.isHeld()).toBe(false);
    expect(b.lease.isHeld()).toBe(true);
  });

  it("stops the duties of a holder that cannot renew before anyone else can claim, and a fenced write cannot slip in", async () => {
    const name = freshName();
    const a = runner(name, "a");
    const b = runner(name, "b");
    await a.lease.start();
    await b.lease.start();
    const fence = a.lease.fence()!;
    // Another connection locks the table: every claim and renewal now waits (a stalled database, as seen by both).
    const locker = new pg.Client({ connectionString: database().url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE duty_leases IN ACCESS EXCLUSIVE MODE");
      const stalledAt = Date.now();
      const lostAfter = await waitUntil("a stops its duties", () => !a.lease.isHeld(), FAST.ttlMs + 1000);
      // Counted from its last successful renewal (up to one interval before the stall).
      expect(lostAfter).toBeLessThanOrEqual(FAST.ttlMs - FAST.marginMs + 150);
      expect(a.transitions.at(-1)).toBe("lost: not renewed in time");
      expect(b.lease.isHeld()).toBe(false);
      expect(Date.now() - stalledAt).toBeGreaterThan(0);
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    // Once the database answers, one of them holds a new tenure.
    await waitUntil("someone holds the lease", () => a.lease.isHeld() || b.lease.isHeld(), 3000);
    const holder = a.lease.isHeld() ? a.lease : b.lease;
    expect(holder.token()).toBe(2n);
    expect(a.lease.isHeld() && b.lease.isHeld()).toBe(false);
    await expect(fencedWrite(fence)).rejects.toThrow(LeaseLostError);
  });

  it("runs the duties of a runner whose renewals fail only for a moment without interruption", async () => {
    const name = freshName();
    const a = runner(name, "a");
    await a.lease.start();
    const locker = new pg.Client({ connectionString: database().url });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE duty_leases IN ACCESS EXCLUSIVE MODE");
      await new Promise((resolve) => setTimeout(resolve, FAST.renewIntervalMs + 100));
    } finally {
      await locker.query("ROLLBACK");
      await locker.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.renewIntervalMs));
    expect(a.lease.isHeld()).toBe(true);
    expect(a.transitions).toEqual(["acquired 1"]);
  });

  it("refuses tunings where the holder could not renew before its own deadline", () => {
    expect(() => runner(freshName(), "a", { ttlMs: 1000, marginMs: 500, renewIntervalMs: 600 })).toThrow(
      /renew more often/,
    );
  });
});
