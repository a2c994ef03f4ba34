// Postgres LISTEN/NOTIFY for the central replicas that share one database: the
// wake-up that carries a change made on one replica to the others within
// milliseconds. It only wakes: every receiver also compares the rows now and
// then, so a notification lost (a connection dropped, a replica restarting)
// only delays.
//
// One dedicated connection per replica LISTENs (it reconnects with backoff,
// LISTENs again, and then runs the `onReconnected` hooks, so callers compare
// at once what they may have missed). NOTIFY goes out through a separate pool
// of one connection, never inside a Prisma transaction: a NOTIFY takes a
// database-wide lock at commit, which a hot write transaction must not hold.
// Notifications queued in one tick go out as one statement.
//
// Payloads are text the receiver parses and validates itself: anyone who can
// reach the database can NOTIFY, so nothing received is trusted.
import pg from "pg";
import type { Logger } from "pino";

/** Postgres refuses payloads of 8000 bytes and more; this leaves room. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7900;

/** Channel names are identifiers we write into LISTEN: lower-case letters, digits and `_`. */
const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** The listening connection's name in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = "fleet-listen";
const CONNECT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = 5000;

/** Notifications sent in one statement at most (more wait for the next one). */
const MAX_BATCH = 100;
/** Attempts for a batch whose statement failed (the connection broke) before it is dropped. */
const SEND_ATTEMPTS = 3;

export type NotificationHandler = (payload: string) => void;

export interface PgNotifier {
  /** False when built disabled or without a database URL: nothing is sent or heard. */
  readonly enabled: boolean;
  /** Handles every notification on `channel` from now on; returns the function that stops. */
  listen(channel: string, handler: NotificationHandler): () => void;
  /**
   * Queues a notification; it goes out with the others queued in this tick.
   * Throws at once for a bad channel or a payload over MAX_NOTIFY_PAYLOAD_BYTES;
   * the promise never rejects (a send that keeps failing is logged and dropped).
   */
  notify(channel: string, payload: string): Promise<void>;
  /** Runs after the listening connection was lost and is back (not after the first connect). */
  onReconnected(hook: () => void): () => void;
  /** Connects and LISTENs; resolves after the first attempt, whatever its outcome (it retries alone). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface PgNotifierOptions {
  /** Null: notifications are off (the fallback comparisons alone carry changes). */
  databaseUrl: string | null;
  log: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Neither send nor listen (to test the fallback). */
  disabled?: boolean;
  /** Reconnect backoff of the listening connection (default 100 ms doubling to 5 s, with jitter). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How often the listening connection is checked with `SELECT 1` (default 10 s). */
  pingIntervalMs?: number;
}

export class NotifyPayloadTooLargeError extends Error {
  override name = "NotifyPayloadTooLargeError";
  constructor(
    readonly channel: string,
    readonly bytes: number,
  ) {
    super(
      `a notification on "${channel}" of ${bytes} bytes exceeds the limit of ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`,
    );
  }
}

function checkChannel(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) throw new Error(`not a notification channel name: "${channel}"`);
}

interface Pending {
  channel: string;
  payload: string;
  attempts: number;
  resolve(): void;
}

export function createPgNotifier(options: PgNotifierOptions): PgNotifier {
  const { log } = options;
  const databaseUrl = options.disabled ? null : options.databaseUrl;
  const enabled = databaseUrl !== null;
  const reconnectMinMs = options.reconnectMinMs ?? 100;
  const reconnectMaxMs = options.reconnectMaxMs ?? 5000;
  const pingIntervalMs = options.pingIntervalMs ?? 10_000;

  const handlers = new Map<string, Set<NotificationHandler>>();
  const reconnectHooks = new Set<() => void>();
  let client: pg.Client | null = null;
  let connecting: Promise<void> | null = null;
  let connectedOnce = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pingTimer: NodeJS.Timeout | null = null;
  let started = false;
  let closed = false;

  const pool = enabled
    ? new pg.Pool({
        connectionString: databaseUrl,
        max: 1,
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        application_name: "fleet-notify",
      })
    : null;
  // An idle pooled connection that breaks emits here; without a listener it would crash the process.
  pool?.on("error", (error) => log.warn({ err: error }, "a notify connection failed"));
  let queue: Pending[] = [];
  let flushScheduled = false;
  let sending: Promise<void> = Promise.resolve();

  function dispatch(channel: string, payload: string): void {
    const set = handlers.get(channel);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(payload);
      } catch (error) {
        log.error({ err: error, channel }, "a notification handler threw");
      }
    }
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== null) return;
    const backoff = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(failures, 16));
    const delay = Math.round(backoff / 2 + Math.random() * (backoff / 2));
    failures++;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, delay);
    reconnectTimer.unref();
  }

  function dropClient(broken: pg.Client, error?: unknown): void {
    if (client !== broken) return;
    client = null;
    if (pingTimer !== null) clearInterval(pingTimer);
    pingTimer = null;
    if (!closed) log.warn({ err: error }, "the notification listener lost its connection; reconnecting");
    broken.end().catch(() => {});
    scheduleReconnect();
  }

  function connect(): Promise<void> {
    if (!enabled || closed || client !== null) return Promise.resolve();
    connecting ??= (async () => {
      const next = new pg.Client({
        connectionString: databaseUrl,
        keepAlive: true,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        query_timeout: QUERY_TIMEOUT_MS,
        application_name: LISTENER_APPLICATION_NAME,
      });
      next.on("error", (error) => dropClient(next, error));
      next.on("end", () => dropClient(next));
      next.on("notification", (message) => {
        if (client === next) dispatch(message.channel, message.payload ?? "");
      });
      try {
        await next.connect();
        // Set before LISTEN so a listen() racing with this connect is not lost.
        client = next;
        for (const channel of handlers.keys()) await next.query(`LISTEN "${channel}"`);
        if (closed) {
          client = null;
          await next.end().catch(() => {});
          return;
        }
      } catch (error) {
        if (client === next) client = null;
        next.end().catch(() => {});
        if (!closed) {
          log.warn({ err: error, attempt: failures + 1 }, "the notification listener could not connect");
          scheduleReconnect();
        }
        return;
      }
      failures = 0;
      // One ping at a time: on a starved machine the last one may still be out, and
      // pg warns of (and will refuse) a query sent while the client runs another.
      let pinging = false;
      pingTimer = setInterval(() => {
        if (pinging) return;
        pinging = true;
        next
          .query("SELECT 1")
          .catch((error: unknown) => dropClient(next, error))
          .finally(() => {
            pinging = false;
          });
      }, pingIntervalMs);
      pingTimer.unref();
      if (connectedOnce) {
        log.info("the notification listener is back");
        for (const hook of [...reconnectHooks]) {
          try {
            hook();
          } catch (error) {
            log.error({ err: error }, "a reconnect hook threw");
          }
        }
      }
      connectedOnce = true;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  function scheduleFlush(): void {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      // One statement at a time, in order: a later notification never overtakes an earlier one.
      sending = sending.then(flush);
    });
  }

  async function flush(): Promise<void> {
    while (queue.length > 0 && pool !== null) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
      const calls = batch.map((_, index) => `pg_notify($${index * 2 + 1}, $${index * 2 + 2})`);
      const values = batch.flatMap((entry) => [entry.channel, entry.payload]);
      try {
        await pool.query(`SELECT ${calls.join(", ")}`, values);
        for (const entry of batch) entry.resolve();
      } catch (error) {
        const retry: Pending[] = [];
        for (const entry of batch) {
          entry.attempts++;
          if (entry.attempts < SEND_ATTEMPTS && !closed) retry.push(entry);
          else entry.resolve();
        }
        log.warn(
          { err: error, notifications: batch.length, dropped: batch.length - retry.length },
          "sending notifications failed",
        );
        if (retry.length > 0) {
          queue = [...retry, ...queue];
          await new Promise((resolve) => setTimeout(resolve, reconnectMinMs * 2));
        }
      }
    }
  }

  return {
    enabled,

    listen(channel, handler) {
      checkChannel(channel);
      if (!enabled) return () => {};
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const current = client;
        current?.query(`LISTEN "${channel}"`).catch((error: unknown) => dropClient(current, error));
      }
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },

    notify(channel, payload) {
      checkChannel(channel);
      const bytes = Buffer.byteLength(payload, "utf8");
      if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) throw new NotifyPayloadTooLargeError(channel, bytes);
      if (!enabled || closed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        queue.push({ channel, payload, attempts: 0, resolve });
        scheduleFlush();
      });
    },

    onReconnected(hook) {
      reconnectHooks.add(hook);
      return () => {
        reconnectHooks.delete(hook);
      };
    },

    async start() {
      if (started || !enabled) return;
      started = true;
      await connect();
    },

    async close() {
      if (closed) return;
      // What was queued still goes out.
      await new Promise((resolve) => setImmediate(resolve));
      await sending;
      closed = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      if (pingTimer !== null) clearInterval(pingTimer);
      await connecting?.catch(() => {});
      const current = client;
      client = null;
      await current?.end().catch(() => {});
      await pool?.end().catch(() => {});
    },
  };
}
