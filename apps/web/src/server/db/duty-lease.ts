// The lease under which the central's background duties run once per fleet,
// whichever replicas share the database (River's leader table, in one row of
// `duty_leases`). The row names its holder, an expiry on the database's clock
// and a fencing token that rises with every new holder and stays the same
// while one holder renews. A replica claims the row when it is expired or its
// own; it renews every couple of seconds; the others try as often, so a dead
// holder's duties move once its expiry passes (TTL plus one try).
//
// A holder that has not renewed for TTL minus a margin (by its own clock,
// counted from when it sent the last successful renewal) stops its duties
// itself, before anyone else can have claimed the row. Writes that must not
// come from a former holder check the token inside their transaction
// (`assertLeaseHeld`), which also holds the row so no claim passes while they
// commit.
//
// May import: the Prisma client (types), @fleet/shared's clock, pino (types).
import { type Clock, systemClock, type TimerHandle } from "@fleet/shared/clock";
import type { Logger } from "pino";
import type { Prisma, PrismaClient } from "./client";

/** The one lease the central's duties run under. */
export const DUTIES_LEASE = "duties";

/** What a fenced write checks: this holder still holds the lease with this token. */
export interface LeaseFence {
  readonly name: string;
  readonly holder: string;
  readonly token: bigint;
}

export interface DutyLeaseTuning {
  /** How long a claim or renewal holds the row (database time). */
  ttlMs: number;
  /** How often the holder renews. */
  renewIntervalMs: number;
  /** How often a replica that does not hold the lease tries to claim it. */
  retryIntervalMs: number;
  /**
   * The holder stops its duties this long before the row could expire: it
   * counts TTL − margin from when it sent its last successful renewal.
   */
  marginMs: number;
}

export const DEFAULT_DUTY_LEASE_TUNING: DutyLeaseTuning = {
  ttlMs: 8000,
  renewIntervalMs: 2000,
  retryIntervalMs: 2000,
  marginMs: 1500,
};

export interface LeaseClaim {
  token: bigint;
  acquiredAt: Date;
  expiresAt: Date;
  /** The database's clock when the claim was made. */
  databaseNow: Date;
}

/**
 * Claims or renews the lease in one statement, on the database's clock: the
 * row is taken when it is missing, expired or held by `holder`. It is a
 * renewal (same token, same `acquired_at`) when `heldToken` is the row's token
 * and the row has not expired; anything else is a new tenure and the token
 * rises by one. Null when someone else holds the row.
 */
export async function claimLease(
  db: Pick<PrismaClient, "$queryRaw">,
  options: { name: string; holder: string; ttlMs: number; heldToken: bigint | null },
): Promise<LeaseClaim | null> {
  const { name, holder, ttlMs, heldToken } = options;
  const ttl = Math.max(1, Math.round(ttlMs));
  const rows = await db.$queryRaw<
    { token: bigint; acquired_at: Date; expires_at: Date; database_now: Date }[]
  >`
    INSERT INTO duty_leases AS lease (name, holder, token, acquired_at, expires_at)
    VALUES (${name}, ${holder}, 1, now(), now() + ${ttl}::int * interval '1 millisecond')
    ON CONFLICT (name) DO UPDATE SET
      holder = EXCLUDED.holder,
      token = CASE
        WHEN lease.holder = EXCLUDED.holder AND lease.token = ${heldToken}::bigint AND lease.expires_at > now()
        THEN lease.token ELSE lease.token + 1 END,
      acquired_at = CASE
        WHEN lease.holder = EXCLUDED.holder AND lease.token = ${heldToken}::bigint AND lease.expires_at > now()
        THEN lease.acquired_at ELSE now() END,
      expires_at = EXCLUDED.expires_at
    WHERE lease.expires_at <= now() OR lease.holder = EXCLUDED.holder
    RETURNING lease.token, lease.acquired_at, lease.expires_at, now() AS database_now`;
  const row = rows[0];
  if (!row) return null;
  return {
    token: BigInt(row.token),
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
    databaseNow: row.database_now,
  };
}

/** Ends `holder`'s tenure now (a clean stop), so the next claim by anyone succeeds. The token stays. */
export async function expireLease(
  db: Pick<PrismaClient, "$executeRaw">,
  options: { name: string; holder: string },
): Promise<boolean> {
  const changed = await db.$executeRaw`
    UPDATE duty_leases SET expires_at = now()
    WHERE name = ${options.name} AND holder = ${options.holder} AND expires_at > now()`;
  return changed > 0;
}

export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}

/**
 * Inside a transaction: throws `LeaseLostError` unless `fence` still holds the
 * lease (same holder, same token, not expired by the database's clock). The
 * row stays share-locked until the transaction ends, so no claim can take it
 * while the fenced writes commit.
 */
export async function assertLeaseHeld(
  tx: Pick<Prisma.TransactionClient, "$queryRaw">,
  fence: LeaseFence,
): Promise<void> {
  const rows = await tx.$queryRaw<{ holder: string; token: bigint; live: boolean }[]>`
    SELECT holder, token, expires_at > now() AS live FROM duty_leases WHERE name = ${fence.name} FOR SHARE`;
  const row = rows[0];
  if (row && row.holder === fence.holder && BigInt(row.token) === fence.token && row.live) return;
  const now = row
    ? `it is ${row.live ? "" : "expired, last "}held by ${row.holder} with token ${row.token}`
    : "there is no such lease";
  throw new LeaseLostError(
    `the lease "${fence.name}" is no longer held by ${fence.holder} with token ${fence.token}: ${now}`,
  );
}

export interface DutyLease {
  /** Claims at once (awaiting the claim and, if it succeeded, `onAcquired`), then keeps trying or renewing. */
  start(): Promise<void>;
  /** True while this replica holds the lease and runs its duties. */
  isHeld(): boolean;
  /** The fencing token of the current tenure; null when not held. */
  token(): bigint | null;
  /** The fence of the current tenure; null when not held. */
  fence(): LeaseFence | null;
  /** A clean stop: no more tries, duties stopped (`onLost`), then the row expired so another replica claims it at once. */
  release(): Promise<void>;
  /** Stops trying and the duties but leaves the row as it is, as a crash would (for tests); release() does nothing after it. */
  abandon(): Promise<void>;
}

export interface DutyLeaseOptions {
  db: Pick<PrismaClient, "$queryRaw" | "$executeRaw">;
  name: string;
  /** Who claims: the replica's id. */
  holder: string;
  log: Pick<Logger, "debug" | "info" | "warn" | "error">;
  clock?: Clock;
  tuning?: Partial<DutyLeaseTuning>;
  /** Starts the duties of a new tenure. */
  onAcquired(fence: LeaseFence): void | Promise<void>;
  /** Stops them (the lease was lost, not renewed in time, or released). */
  onLost(reason: string): void | Promise<void>;
}

/** How long release() waits for a claim in flight before giving up on it. */
const RELEASE_WAIT_MS = 2000;

export function createDutyLease(options: DutyLeaseOptions): DutyLease {
  const { db, name, holder, log } = options;
  const clock = options.clock ?? systemClock;
  const tuning: DutyLeaseTuning = { ...DEFAULT_DUTY_LEASE_TUNING, ...options.tuning };
  if (tuning.marginMs >= tuning.ttlMs || tuning.renewIntervalMs >= tuning.ttlMs - tuning.marginMs) {
    throw new Error("duty lease: the holder must renew more often than TTL minus the margin");
  }
  /** The current tenure and until when (local clock) it may act on it. */
  let held: { token: bigint; validUntil: number } | null = null;
  let stopped = false;
  let abandoned = false;
  let loopTimer: TimerHandle | null = null;
  let deadlineTimer: TimerHandle | null = null;
  let inFlight: Promise<void> | null = null;
  let transitions: Promise<void> = Promise.resolve();
  let failing = false;

  function runTransition(what: string, work: () => void | Promise<void>): void {
    transitions = transitions
      .then(work)
      .catch((error: unknown) => log.error({ err: error, lease: name }, `duty lease: ${what} failed`));
  }

  function lose(reason: string): void {
    if (!held) return;
    const token = held.token;
    held = null;
    if (deadlineTimer !== null) clock.clearTimeout(deadlineTimer);
    deadlineTimer = null;
    log.info(
      { lease: name, holder, token: token.toString(), reason },
      "duty lease lost: stopping the duties",
    );
    runTransition("stopping the duties", () => options.onLost(reason));
  }

  function armDeadline(): void {
    if (deadlineTimer !== null) clock.clearTimeout(deadlineTimer);
    deadlineTimer = null;
    if (!held) return;
    deadlineTimer = clock.setTimeout(
      () => {
        deadlineTimer = null;
        if (!held) return;
        if (clock.now() >= held.validUntil) lose("not renewed in time");
        else armDeadline();
      },
      Math.max(0, held.validUntil - clock.now()),
    );
  }

  function granted(token: bigint, validUntil: number): void {
    if (held && held.token === token) {
      held.validUntil = validUntil;
      armDeadline();
      return;
    }
    // A different token is a new tenure (ours expired and was claimed again): the old one's duties end first.
    if (held) lose("a new tenure began");
    held = { token, validUntil };
    armDeadline();
    const fence: LeaseFence = { name, holder, token };
    log.info({ lease: name, holder, token: token.toString() }, "duty lease acquired: starting the duties");
    runTransition("starting the duties", () => options.onAcquired(fence));
  }

  async function attempt(): Promise<void> {
    const sentAt = clock.now();
    const tenure = held;
    const heldToken = tenure?.token ?? null;
    let claim: LeaseClaim | null;
    try {
      claim = await withTimeout(
        claimLease(db, { name, holder, ttlMs: tuning.ttlMs, heldToken }),
        tuning.ttlMs,
      );
    } catch (error) {
      if (!failing)
        log.warn({ err: error, lease: name }, "duty lease: claiming or renewing failed; trying again");
      failing = true;
      return;
    }
    if (failing) log.info({ lease: name }, "duty lease: the database answers again");
    failing = false;
    if (stopped) return;
    if (!claim) {
      lose("claimed by another replica");
      return;
    }
    // A renewal of a tenure this replica gave up while it was in flight renews nothing:
    // its duties stopped, and the next claim starts a new tenure (a new token) instead.
    if (tenure && held !== tenure) return;
    const validUntil = sentAt + tuning.ttlMs - tuning.marginMs;
    // An answer that took longer than the tenure may last grants nothing to act on.
    if (validUntil <= clock.now()) {
      lose("renewed too late");
      return;
    }
    granted(claim.token, validUntil);
  }

  function runAttempt(): Promise<void> {
    loopTimer = null;
    const run = attempt().finally(() => {
      if (inFlight === run) inFlight = null;
      if (!stopped)
        loopTimer = clock.setTimeout(runAttempt, held ? tuning.renewIntervalMs : tuning.retryIntervalMs);
    });
    inFlight = run;
    return run;
  }

  async function halt(): Promise<void> {
    stopped = true;
    if (loopTimer !== null) clock.clearTimeout(loopTimer);
    loopTimer = null;
    if (inFlight)
      await Promise.race([inFlight, new Promise((resolve) => setTimeout(resolve, RELEASE_WAIT_MS))]);
  }

  return {
    async start() {
      if (stopped || inFlight || loopTimer !== null) return;
      await runAttempt();
      await transitions;
    },
    isHeld: () => held !== null,
    token: () => held?.token ?? null,
    fence: () => (held ? { name, holder, token: held.token } : null),
    async release() {
      // After a (simulated) crash nothing is released: the row expires on its own.
      if (abandoned) return;
      await halt();
      lose("released");
      await transitions;
      try {
        await expireLease(db, { name, holder });
      } catch (error) {
        log.warn({ err: error, lease: name }, "duty lease: could not release it; it expires on its own");
      }
    },
    async abandon() {
      abandoned = true;
      await halt();
      lose("abandoned");
      await transitions;
    },
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
