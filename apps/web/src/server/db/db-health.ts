// Whether this replica can use its database, known before a request finds
// out: `SELECT 1` every second. While the database is down the central says so instead of hanging or failing in odd ways:
// `/readyz` answers 503 (the load balancer sends traffic elsewhere), the API
// answers 503 SERVICE_UNAVAILABLE (retryable), and the gateway closes agent
// sessions with 4013 and refuses new ones (agents spool and redial). Also
// tells once whether every migration this build ships is applied.
//
// `isConnectionError` is the one test for "the database is unreachable", as
// opposed to a query the database refused: retrying the former later may
// succeed, retrying the latter never does.
//
// May import: the Prisma client (types), the migrator's reading of the
// migrations folder.
import { asApiRead, type PrismaClient } from "./client";
import { readMigrations } from "./migrator";
import { defaultMigrationsDir } from "./project-paths";

export interface DbHealthStatus {
  /** The last checks reached the database. */
  healthy: boolean;
  /** Why not, in one line (null while healthy). */
  problem: string | null;
  /** Migrations of this build not applied to the database (null: not known yet). */
  pendingMigrations: string[] | null;
}

export interface DbHealth {
  readonly healthy: boolean;
  status(): DbHealthStatus;
  /** Called with the new state whenever it flips. */
  onChange(listener: (healthy: boolean) => void): () => void;
  /** Someone saw a connection error: check now rather than at the next tick. */
  suspect(): void;
  /** Resolves true once healthy, false if `timeoutMs` passes first. */
  whenHealthy(timeoutMs: number): Promise<boolean>;
  /** The first check (awaited, never rejects), then one every interval. */
  start(): Promise<void>;
  stop(): void;
}

export interface DbHealthOptions {
  db: Pick<PrismaClient, "$queryRaw" | "$queryRawUnsafe">;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Default 1000. */
  intervalMs?: number;
  /** A check slower than this failed. Default 5000. */
  timeoutMs?: number;
  /**
   * Timed-out checks in a row before the database counts as down; a
   * connection error counts at once. Slowness alone is not an outage: a
   * loaded machine (or a blocked event loop) delays answers for seconds, and
   * counting it down would close every agent's link for nothing. Default 3.
   */
  slowChecksBeforeDown?: number;
  /** Where this build's migrations are (default: the checkout's); null skips the check. */
  migrationsDir?: string | null;
}

/** What a call answers while the database is unreachable (HTTP 503: retry later). */
export const DATABASE_UNAVAILABLE_MESSAGE =
  "the central cannot reach its database right now; try again in a few seconds";

/** Prisma's codes for a database it cannot reach or lost (P1001 unreachable, P1017 closed, P2024 pool timeout). */
const PRISMA_CONNECTION_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
/** The pg driver adapter's kinds for the same. */
const ADAPTER_CONNECTION_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
  "TlsConnectionError",
]);
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ECONNABORTED",
]);
/**
 * SQLSTATEs of a server going away or not taking sessions: class 08
 * (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03
 * cannot connect now (starting up), 53300 too many connections.
 */
function isConnectionSqlState(code: string): boolean {
  return /^08/.test(code) || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300";
}
const CONNECTION_MESSAGES =
  /Connection terminated|connection error and is not queryable|Can't reach database server|timeout exceeded when trying to connect|server closed the connection unexpectedly|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Connection refused/i;

/** Whether `error` says the database could not be reached (or went away), whatever layer threw it. */
export function isConnectionError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const candidate = current as {
      code?: unknown;
      originalCode?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
      errors?: unknown;
    };
    if (typeof candidate.code === "string") {
      if (PRISMA_CONNECTION_CODES.has(candidate.code) || SOCKET_CODES.has(candidate.code)) return true;
      if (isConnectionSqlState(candidate.code)) return true;
    }
    if (typeof candidate.originalCode === "string" && isConnectionSqlState(candidate.originalCode))
      return true;
    if (typeof candidate.kind === "string" && ADAPTER_CONNECTION_KINDS.has(candidate.kind)) return true;
    if (typeof candidate.message === "string" && CONNECTION_MESSAGES.test(candidate.message)) return true;
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
    // AggregateError (a connect that tried IPv4 and IPv6).
    if (Array.isArray(candidate.errors)) pending.push(...candidate.errors);
  }
  return false;
}

class CheckTimeout extends Error {
  override name = "CheckTimeout";
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? "unknown error").slice(0, 200);
}

export function createDbHealth(options: DbHealthOptions): DbHealth {
  const { db, log } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const slowChecksBeforeDown = options.slowChecksBeforeDown ?? 3;
  const listeners = new Set<(healthy: boolean) => void>();
  let healthy = true;
  let problem: string | null = null;
  let slowChecks = 0;
  let pendingMigrations: string[] | null = null;
  let localMigrations: string[] | null = options.migrationsDir === null ? [] : null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let again = false;

  function set(next: boolean, why: string | null): void {
    problem = why;
    if (next === healthy) return;
    healthy = next;
    if (next) log.info({}, "database reachable again");
    else log.warn({ problem: why }, "database unreachable: refusing work that needs it until it is back");
    for (const listener of [...listeners]) {
      try {
        listener(next);
      } catch (error) {
        log.warn({ err: error }, "a database health listener failed");
      }
    }
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    let handle: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      handle = setTimeout(() => reject(new CheckTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(handle));
  }

  async function checkMigrations(): Promise<void> {
    if (localMigrations === null) {
      localMigrations = (await readMigrations(options.migrationsDir ?? defaultMigrationsDir())).map(
        (migration) => migration.name,
      );
    }
    if (localMigrations.length === 0) {
      pendingMigrations = [];
      return;
    }
    // A database never migrated has no history table: that is an answer (all pending), not an error.
    const [table] = await withTimeout(
      db.$queryRawUnsafe<{ present: boolean }[]>(
        `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
      ),
    );
    const rows = table?.present
      ? await withTimeout(
          db.$queryRawUnsafe<{ migration_name: string }[]>(
            `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
          ),
        )
      : [];
    const applied = new Set(rows.map((row) => row.migration_name));
    pendingMigrations = localMigrations.filter((name) => !applied.has(name));
  }

  async function checkOnce(): Promise<void> {
    try {
      // On the API's connections: agents' writes can hold every main connection for seconds at
      // fleet scale, and a ping queued behind them would call a busy pool a database outage.
      await withTimeout(asApiRead(() => db.$queryRaw`SELECT 1`));
      slowChecks = 0;
      // Once current, a build's migrations stay applied: no need to ask again.
      if (pendingMigrations === null || pendingMigrations.length > 0) {
        await checkMigrations().catch((error: unknown) => {
          log.warn({ err: error }, "reading the applied migrations failed");
        });
      }
      set(true, null);
    } catch (error) {
      const why = `database unreachable: ${oneLine(error)}`;
      if (error instanceof CheckTimeout && ++slowChecks < slowChecksBeforeDown) return;
      set(false, why);
    }
  }

  function check(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await checkOnce();
      } while (again && !stopped);
    })().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void check().finally(schedule);
    }, intervalMs);
    timer.unref();
  }

  return {
    get healthy() {
      return healthy;
    },
    status: () => ({ healthy, problem, pendingMigrations }),
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    suspect() {
      if (!stopped) void check();
    },
    whenHealthy(waitMs) {
      if (healthy) return Promise.resolve(true);
      return new Promise((resolve) => {
        const giveUp = setTimeout(() => {
          unsubscribe();
          resolve(false);
        }, waitMs);
        giveUp.unref();
        const unsubscribe = (() => {
          const listener = (next: boolean) => {
            if (!next) return;
            clearTimeout(giveUp);
            listeners.delete(listener);
            resolve(true);
          };
          listeners.add(listener);
          return () => listeners.delete(listener);
        })();
      });
    },
    async start() {
      stopped = false;
      await check();
      if (timer === null) schedule();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
